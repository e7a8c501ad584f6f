"""False positives and misses seen on real projects' Dockerfiles (issue: lint right on real projects).

Each rule gets several firing and several quiet cases, hadolint style; the quiet ones are the false
positives that real projects hit, the firing ones the misses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgo.dockerfile.lint import LintSettings, lint_dockerfile
from slimgo.dockerfile.parse import parse

B = "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
BUILD = B + 'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ./cmd/app\n'
FINAL = "FROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n"

CASES: dict[str, tuple[list[str], list[str]]] = {
    "SG305": ([
        "FROM alpine:3.20\nENV DB_PASSWORD=hunter2\n",
        "FROM alpine:3.20\nARG GITHUB_TOKEN\n",
        "FROM alpine:3.20\nENV API_KEY abc123\n",
    ], [
        "FROM alpine:3.20\nENV MINIO_SECRET_KEY_FILE=secret_key\n",  # minio: a *_FILE holds a path
        "FROM alpine:3.20\nENV PASSWORD_HASH_ALGO bcrypt\n",  # a setting, not a secret
        "FROM alpine:3.20\nENV TOKEN_TTL=3600 SECRET_PATH=/run/secrets/x\n",
        "FROM alpine:3.20\nENV VAULT_TOKEN_FILE /run/secrets/token\n",
    ]),
    "SG101": ([
        BUILD + "FROM golang:1.23\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n",
        BUILD + "FROM debian:12\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n",
        BUILD + "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y ca-certificates\n"
                "COPY --from=build /out/app /app\n",
    ], [
        BUILD + "FROM golang:1.23\nCOPY --from=build /out/app /usr/bin/goreleaser\n"
                "ENTRYPOINT [\"/usr/bin/goreleaser\"]\nCMD [\"go\", \"version\"]\n",  # goreleaser runs go build
        BUILD + "FROM golang:1.23-alpine\nCOPY --from=build /out/app /usr/bin/hugo\nRUN go version\n"
                "ENTRYPOINT [\"hugo\"]\n",  # Hugo Modules need go at run time
        BUILD + "FROM debian:12\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"
                "COPY --from=build /out/app /app\n",  # the distro is used on purpose
    ]),
    "SG401": ([
        B + "RUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\n",
        B + "RUN go build -o /out/app .\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app\n",
        # glibc builder, musl runtime: the miss a real project fixed in its next commit
        B + "RUN go build -o /out/app .\nFROM alpine:3.20\nCOPY --from=build /out/app /app\n",
        "FROM golang:1.23-alpine AS build\nRUN apk add --no-cache gcc musl-dev\nRUN go build -o /app .\n"
        "FROM scratch\nCOPY --from=build /app /app\n",
    ], [
        B + "RUN go install golang.org/x/tools/cmd/stringer@v0.20.0\nRUN CGO_ENABLED=0 go build -o /out/app .\n"
            "FROM scratch\nCOPY --from=build /out/app /app\n",  # a build tool is not shipped
        B + "RUN go build -o /out/app .\nFROM gcr.io/distroless/base-debian12\nCOPY --from=build /out/app /app\n",
        "FROM golang:1.23-alpine AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCOPY --from=build /app /app\n",
        "FROM golang:1.23-alpine AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n",
        B + "RUN go build -tags netgo,osusergo -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\n",
    ]),
    "SG402": ([
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nRUN CGO_ENABLED=0 go build -o /app .\n"
        "FROM scratch\nCOPY --from=build /app /app\n",
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build -o /app .\n"
        "FROM scratch\nCOPY --from=build /app /app\n" .replace("GOARCH=$TARGETARCH ", ""),
    ], [
        "FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.4 AS xx\n"
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nCOPY --from=xx / /\nRUN xx-go --wrap\n"
        "RUN CGO_ENABLED=0 go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n",
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nRUN CGO_ENABLED=0 xx-go build -o /app .\n"
        "FROM scratch\nCOPY --from=build /app /app\n",
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nRUN go install github.com/a/gen@v1.0.0\n"
        "ARG TARGETOS TARGETARCH\nRUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .\n"
        "FROM scratch\nCOPY --from=build /app /app\n",  # the generator stays native to the build host
    ]),
    "SG103": ([
        B + "RUN CGO_ENABLED=0 go build -o /out/app .\n" + FINAL.replace("/out/app /app", "/out/app /app"),
        B + "RUN CGO_ENABLED=0 go build -ldflags=\"-X main.v=1\" -o /out/app .\n" + FINAL,
    ], [
        B + "RUN go install github.com/a/gen@v1.0.0\nRUN CGO_ENABLED=0 go build -ldflags='-s -w' -o /out/app .\n"
            + FINAL,  # the tool's flags do not matter: it does not ship
        B + "ARG LDFLAGS=\"-s -w\"\nRUN CGO_ENABLED=0 go build -ldflags \"$LDFLAGS\" -o /out/app .\n" + FINAL,
        B + "RUN CGO_ENABLED=0 go build -o /out/app . && strip /out/app\n" + FINAL,
        B + "RUN CGO_ENABLED=0 go build -ldflags \"${GO_LDFLAGS}\" -o /out/app .\n" + FINAL,  # cannot tell
    ]),
    "SG104": ([
        B + "RUN CGO_ENABLED=0 go build -ldflags=-s -o /out/app .\n" + FINAL,
    ], [
        B + "RUN go install github.com/a/gen@v1.0.0\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/app .\n"
            + FINAL,
        B + "ENV GOFLAGS=-trimpath\nRUN CGO_ENABLED=0 go build -ldflags=-s -o /out/app .\n" + FINAL,
    ]),
    "SG304": ([
        "FROM alpine\n", "FROM alpine:latest\n", "FROM golang:alpine AS b\nFROM scratch\n",
        "ARG BASE=debian\nFROM $BASE\n",
    ], [
        "ARG base_image\nFROM $base_image\n",  # no default: the build command decides; never "base image ''"
        "ARG BASE=alpine:3.20\nFROM ${BASE}\n", "FROM golang:1.23-alpine AS b\nFROM b\n",
        "FROM alpine:3.20@sha256:" + "a" * 64 + "\n",
    ]),
    "SG301": ([
        "FROM alpine:3.20\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
        "FROM alpine:3.20\nUSER root\nENTRYPOINT [\"/app\"]\n",
    ], [
        "FROM alpine:3.20\nRUN apk add --no-cache su-exec\nCOPY entry.sh /\nENTRYPOINT [\"/entry.sh\"]\n",
        "FROM debian:12\nCOPY --from=tianon/gosu:1.17 /gosu /usr/local/bin/\nENTRYPOINT [\"gosu\", \"app\", \"/app\"]\n",
        "FROM alpine:3.20\nENTRYPOINT [\"setpriv\", \"--reuid=1000\", \"/app\"]\n",
        # the pragma where the user sees the problem: above ENTRYPOINT, not only above FROM
        "FROM alpine:3.20\nCOPY app /app\n# slimgo:ignore=SG301 -- the host runs it in a user namespace\n"
        "ENTRYPOINT [\"/app\"]\n",
        "FROM alpine:3.20\n# hadolint ignore=DL3002\nUSER root\n",
    ]),
    "SG105": ([
        "FROM alpine:3.20\nRUN apk add curl\n", "FROM alpine:3.20\nRUN apk --update add curl\n",
        "FROM alpine:3.20\nRUN set -e; apk update && apk add git\n",
    ], [
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
        "FROM alpine:3.20\n# hadolint ignore=DL3019\nRUN apk add curl\n",
        "FROM alpine:3.20\n# slimgo:ignore=SG105 because the cache is removed by the base's cleanup\nRUN apk add curl\n",
        "FROM alpine:3.20\nRUN apk add curl && rm -rf /var/cache/apk/*\n",
    ]),
    "SG202": ([
        "FROM alpine:3.20\nRUN date > build-time.txt\n",  # the article's own cache-busting example
        "FROM alpine:3.20\nRUN echo $(date +%s) > /v\n",
        "FROM alpine:3.20\nRUN adduser -D -u $(shuf -i 2000-65000 -n 1) app\n",  # a random UID
    ], [
        "FROM alpine:3.20\nRUN date -d @0 > /epoch\n", "FROM alpine:3.20\nRUN echo update > /x\n",
        "FROM alpine:3.20\nRUN adduser -D -u 10001 app\n",
    ]),
    "SG201": ([
        "FROM golang:1.23\nCOPY . .\nRUN go mod download\n",
        "FROM golang:1.23\nCOPY . /src\nRUN go get -d ./...\n",
    ], [
        "FROM golang:1.23\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n",
        "FROM golang:1.23\nCOPY go.mod ./\nRUN go get -d ./...\nCOPY . .\n",
    ]),
    "SG109": ([
        "FROM golang:1.23 AS build\nWORKDIR /app\nCOPY . .\nRUN go build -o server .\n"
        "FROM alpine:3.20\nCOPY --from=build /app .\n",
        "FROM golang:1.23 AS build\nCOPY . /src\nRUN cd /src && go build -o /bin/app .\n"
        "FROM scratch\nCOPY --from=build /src /src\n",
    ], [
        "FROM golang:1.23 AS build\nWORKDIR /app\nCOPY . .\nRUN go build -o server .\n"
        "FROM alpine:3.20\nCOPY --from=build /app/server /server\n",
        "FROM golang:1.23 AS build\nWORKDIR /app\nCOPY . .\nRUN go build -o /out/server .\n"
        "FROM alpine:3.20\nCOPY --from=build /out /out\n",
    ]),
    "SG307": ([
        "FROM alpine:3.20\nRUN chmod -R 777 /data\n", "FROM alpine:3.20\nRUN chmod o+w /app\n",
        "FROM alpine:3.20\nRUN mkdir /x && chmod 0777 /x\n",
    ], [
        "FROM alpine:3.20\nRUN chmod 755 /app\n", "FROM alpine:3.20\nRUN chmod u+x /app\n",
        "FROM alpine:3.20 AS b\nRUN chmod 777 /tmp/x\nFROM scratch\nCOPY --from=b /tmp/x /x\n",  # not shipped
    ]),
    "SG308": ([
        "FROM alpine:3.20\nRUN wget -O /bin/tool https://github.com/o/t/releases/download/v1/tool-linux-amd64\n",
        "FROM alpine:3.20\nRUN curl -fsSL https://example.com/t.tar.gz | tar xz\n",
        "FROM alpine:3.20\nRUN curl -fsSL https://get.example.com/install.sh | sh\n",
    ], [
        "FROM alpine:3.20\nRUN curl -fsSLo t.tgz https://example.com/t.tgz && echo 'abc  t.tgz' | sha256sum -c -\n",
        "FROM alpine:3.20\nRUN curl -fsS http://localhost:8080/healthz\n",
        "FROM alpine:3.20\nRUN wget -q https://example.com/t.tgz.asc https://example.com/t.tgz && gpg --verify t.tgz.asc\n",
    ]),
    "SG205": ([
        B + "RUN CGO_ENABLED=0 go build -a -o /out/app .\n" + FINAL,
        B + "RUN go install -a ./cmd/app\n",
    ], [
        BUILD + FINAL, B + "RUN go build -o /out/app -ldflags=\"-X main.a=1\" .\n",
    ]),
    "SG107": ([
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS b\nARG TARGETARCH\n"
        "RUN GOARCH=$TARGETARCH go build -o /app . && upx /app\nFROM scratch\nCOPY --from=b /app /app\n",
        "FROM golang:1.23 AS b\nRUN GOARCH=arm64 go build -o /app . && upx /app\n",
    ], [
        "FROM --platform=$BUILDPLATFORM golang:1.23 AS b\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build -o /app . "
        "&& if [ \"$TARGETARCH\" = amd64 ]; then upx /app; fi\nFROM scratch\nCOPY --from=b /app /app\n",
        "FROM golang:1.23 AS b\nRUN go build -o /app . && upx /app\n",
    ]),
    "SG110": ([
        BUILD + "FROM alpine:3.20\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n",
    ], [
        BUILD + "FROM alpine:3.20\nRUN apk add --no-cache git\nCOPY --from=build /out/app /app\n",
        B + "RUN go build -o /out/app .\nFROM alpine:3.20\nCOPY --from=build /out/app /app\n",  # cgo: not static
    ]),
    "SG106": ([
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
    ], [
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\n# hadolint ignore=DL3009\nRUN apt-get update && apt-get install -y curl\n",
    ]),
}


def _findings(text: str, directory: Path | None = None) -> list:
    return lint_dockerfile(parse(text), directory, LintSettings())


def _ids() -> list[tuple[str, str, int]]:
    return [(rule, kind, k) for rule, (fire, quiet) in CASES.items()
            for kind, cases in (("fires", fire), ("quiet", quiet)) for k in range(len(cases))]


@pytest.mark.parametrize("rule,kind,k", _ids(), ids=lambda v: str(v))
def test_rule_case(rule: str, kind: str, k: int) -> None:
    text = CASES[rule][0 if kind == "fires" else 1][k]
    found = {f.rule for f in _findings(text)}
    assert (rule in found) == (kind == "fires"), f"{rule} {kind} case {k}: got {sorted(found)}\n{text}"


def test_every_rule_has_several_cases() -> None:
    for rule, (fire, quiet) in CASES.items():
        assert fire and len(quiet) >= 2 and len(fire) + len(quiet) >= 3, rule


def test_cache_in_unshipped_builder_is_info() -> None:
    text = "FROM golang:1.23-alpine AS build\nRUN apk add git\nRUN CGO_ENABLED=0 go build -o /app .\n" \
           "FROM scratch\nCOPY --from=build /app /app\nUSER 65532\n"
    sev = {f.rule: f.severity for f in _findings(text)}
    assert sev["SG105"] == "info"
    assert {f.rule: f.severity for f in _findings("FROM alpine:3.20\nRUN apk add git\n")}["SG105"] == "warning"


def test_sg306_cannot_tell_when_a_parent_has_dockerignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".dockerignore").write_text(".git\n")
    sub = tmp_path / "cmd" / "loki"
    sub.mkdir(parents=True)
    text = "FROM golang:1.23\nCOPY . /src\n"
    assert "SG306" not in {f.rule for f in _findings(text, sub)}  # built from the root: cannot tell
    (tmp_path / ".dockerignore").unlink()
    assert "SG306" in {f.rule for f in _findings(text, sub)}
    own = tmp_path / "cmd" / "loki" / "Dockerfile.dockerignore"
    own.write_text(".git\n")
    df = parse(text, str(sub / "Dockerfile"))
    assert "SG306" not in {f.rule for f in lint_dockerfile(df, sub, LintSettings())}
    settings = LintSettings(context=tmp_path)
    own.unlink()
    assert "SG306" in {f.rule for f in lint_dockerfile(df, sub, settings)}
    (tmp_path / ".dockerignore").write_text(".git\n")
    assert "SG306" not in {f.rule for f in lint_dockerfile(df, sub, settings)}


def test_pragma_reason_text_and_hadolint_global() -> None:
    text = "# hadolint global ignore=DL3007\nFROM alpine:latest\n# slimgo:ignore=SG105,SG106 -- vendored base\n" \
           "RUN apk add curl && apt-get install -y x\n"
    found = {f.rule for f in _findings(text)}
    assert not {"SG304", "SG105", "SG106"} & found
