"""Every rule fires on a Dockerfile that has the mistake and stays quiet on one that does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgo.dockerfile.lint import ALL_RULES, LintSettings, lint_dockerfile
from slimgo.dockerfile.parse import parse

GOOD_BUILD = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \\
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app .
"""
GOOD_FINAL = """\
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
"""
GOOD = GOOD_BUILD + "\n" + GOOD_FINAL

CASES: dict[str, tuple[str, str]] = {
    "SG101": (GOOD_BUILD + "FROM golang:1.22\nCOPY --from=build /out/app /app\nUSER 65532\nENTRYPOINT [\"/app\"]\n",
              GOOD),
    "SG102": ("FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\nUSER 1000\n"
              "ENTRYPOINT [\"/app\"]\n", GOOD),
    "SG103": (GOOD.replace('-ldflags="-s -w" ', ""), GOOD),
    "SG104": (GOOD.replace("-trimpath ", ""), GOOD),
    "SG105": ("FROM alpine:3.20\nRUN apk add curl\nUSER 1000\n", "FROM alpine:3.20\nRUN apk add --no-cache curl\nUSER 1000\n"),
    "SG106": ("FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER 1000\n",
              "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nUSER 1000\n"),
    "SG107": (GOOD.replace("CGO_ENABLED=0 go build", "CGO_ENABLED=0 GOARCH=arm64 go build")
              .replace("-o /out/app .", "-o /out/app . && upx --best /out/app"),
              GOOD.replace("-o /out/app .", "-o /out/app . && upx --best /out/app")),
    "SG108": (GOOD.replace("-o /out/app .", "-o /out/app . && upx --best /out/app && strip /out/app"),
              GOOD.replace("-o /out/app .", "-o /out/app . && strip /out/app && upx --best /out/app")),
    "SG201": (GOOD_BUILD.replace("COPY go.mod go.sum ./\n", "COPY . .\n", 1) + GOOD_FINAL, GOOD),
    "SG202": (GOOD.replace("WORKDIR /src\n", "WORKDIR /src\nRUN echo $(date) > /built\n"), GOOD),
    "SG203": ("FROM alpine:3.20\nADD https://example.com/tool.tgz /tmp/\nUSER 1000\n",
              "FROM alpine:3.20\nADD --checksum=sha256:abc https://example.com/tool.tgz /tmp/\nUSER 1000\n"),
    "SG204": (GOOD.replace("--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \\\n"
                           "    ", ""), GOOD),
    "SG301": (GOOD.replace("USER 65532:65532\n", "").replace(":nonroot", ""), GOOD),
    "SG302": (GOOD.replace("USER 65532:65532", "USER nonroot"), GOOD),
    "SG303": (GOOD.replace('ENTRYPOINT ["/app"]', "ENTRYPOINT /app"), GOOD),
    "SG304": (GOOD.replace("golang:1.22", "golang"), GOOD),
    "SG305": (GOOD.replace("WORKDIR /src\n", "WORKDIR /src\nARG GITHUB_TOKEN\n"), GOOD),
    "SG401": (GOOD.replace("CGO_ENABLED=0 go build", "go build"), GOOD),
    "SG109": (GOOD.replace("COPY --from=build /out/app /app", "COPY --from=build /src /app"), GOOD),
    "SG110": (GOOD.replace("gcr.io/distroless/static-debian12:nonroot", "alpine:3.20"), GOOD),
    "SG205": (GOOD.replace("go build -trimpath", "go build -a -trimpath"), GOOD),
    "SG307": (GOOD.replace("USER 65532:65532\n", "RUN chmod -R 777 /app\nUSER 65532:65532\n")
              .replace(":nonroot", "").replace("distroless/static-debian12", "distroless/base-debian12"),
              GOOD.replace("USER 65532:65532\n", "RUN chmod 755 /app\nUSER 65532:65532\n")),
    "SG308": (GOOD.replace("WORKDIR /src\n", "WORKDIR /src\nRUN curl -fsSLo /usr/local/bin/tool "
                           "https://example.com/releases/download/v1/tool-linux-amd64\n"),
              GOOD.replace("WORKDIR /src\n", "WORKDIR /src\nRUN curl -fsSLo /t https://example.com/releases/download/"
                           "v1/tool-linux-amd64 && echo \"abc  /t\" | sha256sum -c -\n")),
    "SG402": (GOOD.replace("FROM golang:1.22 AS build", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build"),
              GOOD.replace("FROM golang:1.22 AS build", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build")
              .replace("CGO_ENABLED=0 go build", "CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build")),
}


def _rules(text: str, directory: Path | None = None) -> set[str]:
    return {f.rule for f in lint_dockerfile(parse(text), directory, LintSettings())}


def test_every_rule_has_a_case() -> None:
    assert set(CASES) | {"SG306"} == set(ALL_RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_stays_quiet(rule: str) -> None:
    bad, good = CASES[rule]
    assert rule in _rules(bad), f"{rule} did not fire"
    assert rule not in _rules(good), f"{rule} fired on the good Dockerfile"


def test_good_dockerfile_is_clean() -> None:
    assert _rules(GOOD) == set()


def test_sg306_needs_the_directory(tmp_path: Path) -> None:
    assert "SG306" in _rules(GOOD, tmp_path)
    (tmp_path / ".dockerignore").write_text(".git\n")
    assert "SG306" not in _rules(GOOD, tmp_path)


def test_pragmas_and_settings() -> None:
    text = GOOD.replace('ENTRYPOINT ["/app"]', "# slimgo:ignore=SG303\nENTRYPOINT /app")
    assert "SG303" not in _rules(text)
    text = "# slimgo:ignore-file=SG304,SG103\n" + GOOD.replace("golang:1.22", "golang").replace('-ldflags="-s -w" ', "")
    assert not {"SG304", "SG103"} & _rules(text)
    bad = CASES["SG303"][0]
    findings = lint_dockerfile(parse(bad), None, LintSettings(severity={"SG303": "info"}))
    assert [f.severity for f in findings if f.rule == "SG303"] == ["info"]
    assert not [f for f in lint_dockerfile(parse(bad), None, LintSettings(ignore={"SG303"})) if f.rule == "SG303"]


def test_findings_carry_line_hint_and_severity() -> None:
    findings = lint_dockerfile(parse(CASES["SG303"][0], "x/Dockerfile"), None, LintSettings())
    f = next(f for f in findings if f.rule == "SG303")
    assert f.line == GOOD.splitlines().index('ENTRYPOINT ["/app"]') + 1
    assert f.severity == "warning" and f.hint and f.file == "x/Dockerfile"
