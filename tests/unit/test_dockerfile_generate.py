"""The generator's text, pure: pins, platform variables, the Delve, UPX, scratch and cgo recipes, the
options it refuses, and that every variant lints clean under slimgo's own rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slimgo.binary.needs import Needs
from slimgo.dockerfile import generate, pin, runtime
from slimgo.dockerfile.generate import Options, render
from slimgo.dockerfile.project import GoRelease, ModuleFacts
from slimgo.dockerfile.write import dockerignore_for
from slimgo.errors import BadInput
from slimgo.strategy import GoFlags
from tests.support.cli import run as run_cli

FACTS = ModuleFacts(root=Path("."), module_dir=".", package="./cmd/app", name="app",
                    go=GoRelease("1.22.5", "toolchain go1.22.5"), manifests=((".", ("go.mod", "go.sum")),),
                    vendored=False, workspace=False)
STATIC = runtime.Runtime(runtime.DEFAULT_RUNTIME, "distroless static")


def _needs(**kw: bool) -> Needs:
    base = dict(ca_roots=False, zoneinfo=False, tzdata_embedded=False, loads_zones=False, user_db=False, dns=False,
                cgo_resolver=False, cgo=False, dynamic=False, plugins=False)
    return Needs(**{**base, **kw})


def _probed(needs: Needs | None = None, needed: list[str] | None = None) -> runtime.Probe:
    return lambda flags: runtime.Probed(needs, tuple(needed or []))


def test_builder_pinned_from_toolchain_directive_not_the_go_patch_line() -> None:
    assert GoRelease.from_text("module m\n\ngo 1.21.0\n\ntoolchain go1.22.5\n", "go.mod") == \
        GoRelease("1.22.5", "toolchain go1.22.5")
    # Without a toolchain line, the go line is a minimum: pin the minor, not the old .0 patch.
    assert GoRelease.from_text("module m\n\ngo 1.21.0\n", "go.mod").version == "1.21"
    assert GoRelease.from_text("module m\ngo 1.22 // comment\n", "go.mod").version == "1.22"
    with pytest.raises(BadInput, match="no `go` directive"):
        GoRelease.from_text("module m\n", "go.mod")
    text = render(FACTS, STATIC)
    assert "ARG GO_VERSION=1.22.5" in text and "(from toolchain go1.22.5)" in text


def test_header_names_the_exact_flags_of_the_build_line() -> None:
    text = render(FACTS, STATIC)
    header = text.splitlines()[0]
    build = re.search(r"go build (.*) -o /out/app", text)
    assert build is not None
    assert '-ldflags="-s -w"' in header and build.group(1) in header
    assert "CGO_ENABLED=0" in header


def test_arm_variants_set_goarm_from_targetvariant() -> None:
    text = render(FACTS, STATIC)
    assert "ARG TARGETOS TARGETARCH TARGETVARIANT" in text
    assert "GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v}" in text


def test_debug_builds_delve_for_the_target_and_the_program_unoptimised() -> None:
    text = render(FACTS, STATIC, Options(debug=True))
    delve = next(line for line in text.splitlines() if "GOTOOLCHAIN=auto" in line and "CGO" in line)
    assert "GOOS=$TARGETOS GOARCH=$TARGETARCH" in delve and "CGO_ENABLED=0" in delve
    assert f"ARG DELVE_VERSION={generate.DELVE_VERSION}" in text
    assert '-gcflags="all=-N -l"' in text
    program = re.search(r"go build (.*) -o /out/app", text)
    assert program is not None and "-s -w" not in program.group(1)
    assert text.splitlines()[-1] == ('ENTRYPOINT ["/app/dlv", "exec", "--headless", "--listen=:2345", '
                                     '"--api-version=2", "--accept-multiclient", "/app/app", "--"]')
    assert "USER 65532:65532" in text and "EXPOSE 2345" in text
    cont = render(FACTS, STATIC, Options(debug=True, debug_continue=True))
    assert '"--accept-multiclient", "--continue", "/app/app", "--"]' in cont


def test_upx_is_a_pinned_checksummed_release_packed_last_with_an_arch_guard() -> None:
    text = render(FACTS, STATIC, Options(upx=True))
    assert "upx-ucl" not in text and "apt-get" not in text
    assert f"ARG UPX_VERSION={generate.UPX_VERSION}" in text and 'sha256sum -c -' in text
    for digest in generate.UPX_SHA256.values():
        assert digest in text
    assert "--checksum" not in text  # Docker 20.10's built-in frontend rejects ADD --checksum
    lines = text.splitlines()
    pack = next(i for i, line in enumerate(lines) if "--best --lzma" in line)
    assert not any(re.search(r"\b(strip|objcopy)\b", line) for line in lines[pack:])
    assert 'case " $UPX_TARGETS " in' in text and f'UPX_TARGETS="{generate.UPX_TARGETS}"' in text
    assert "COPY --from=upx /out/app /app/app" in text


@pytest.mark.parametrize("opts,match", [
    (Options(upx=True, debug=True), "cannot be debugged"),
    (Options(upx=True, cgo=True), "static binaries only"),
    (Options(debug_continue=True), "needs --debug"),
])
def test_refused_combinations(opts: Options, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        render(FACTS, STATIC, opts)


def test_scratch_copies_what_the_binary_needs_and_nothing_else() -> None:
    both = runtime.choose("scratch", cgo=False, flags=generate.go_flags(Options()),
                          probe=_probed(_needs(ca_roots=True, zoneinfo=True)))
    text = render(FACTS, both)
    assert "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt" in text
    assert "ENV ZONEINFO=/zoneinfo.zip" in text and "lib/time/zoneinfo.zip\" /out/zoneinfo.zip" in text
    none = runtime.choose("scratch", cgo=False, flags=generate.go_flags(Options()),
                          probe=_probed(_needs(tzdata_embedded=True, loads_zones=True)))
    bare = render(FACTS, none)
    assert "ca-certificates" not in bare and "ZONEINFO" not in bare and "ARG RUNTIME_IMAGE=scratch" in bare


def test_cgo_runtime_follows_the_libraries_the_binary_links() -> None:
    flags = generate.go_flags(Options(cgo=True))
    assert flags.cgo is True and flags.ldflags == "-s -w"

    def pick(libs: list[str]) -> str:
        return runtime.choose(None, cgo=True, flags=flags,
                              probe=_probed(needed=libs)).image

    assert pick(["libc.so.6", "libm.so.6"]) == runtime.GLIBC_RUNTIME
    assert pick(["libc.so.6", "libstdc++.so.6"]) == runtime.CXX_RUNTIME
    with pytest.raises(BadInput, match="libsqlite3.so.0, which no distroless image has"):
        pick(["libc.so.6", "libsqlite3.so.0"])

    def no_compiler(f: GoFlags) -> runtime.Probed:
        raise BadInput("cannot build: exec: \"gcc\": executable file not found in $PATH")

    with pytest.raises(BadInput, match="install a C compiler, or give --base IMAGE"):
        runtime.choose(None, cgo=True, flags=flags, probe=no_compiler)
    assert runtime.choose("debian:bookworm-slim", cgo=True, flags=flags, probe=no_compiler).image == \
        "debian:bookworm-slim"
    with pytest.raises(BadInput, match="lacks"):
        runtime.choose("scratch", cgo=True, flags=flags, probe=_probed())
    text = render(FACTS, runtime.Runtime(runtime.GLIBC_RUNTIME, "glibc"), Options(cgo=True))
    assert "FROM ${BUILDER_IMAGE} AS build" in text and "$BUILDPLATFORM" not in text
    assert "CGO_ENABLED=1 " in text and "GOARCH=" not in text


def test_workspace_context_copies_each_module_manifest() -> None:
    facts = ModuleFacts(root=Path("/r"), module_dir="app", package=".", name="app", go=GoRelease("1.23", "go 1.23"),
                        manifests=((".", ("go.work",)), ("app", ("go.mod",)), ("lib", ("go.mod", "go.sum"))),
                        vendored=False, workspace=True)
    text = render(facts, STATIC, Options(dockerfile="app/Dockerfile"))
    assert "WORKDIR /src/app" in text
    assert "COPY go.work /src/\nCOPY app/go.mod /src/app/\nCOPY lib/go.mod lib/go.sum /src/lib/\n" in text
    assert "RUN --mount=type=cache,target=/go/pkg/mod go mod download" not in text
    assert "COPY . /src/" in text and "docker build -f app/Dockerfile -t app ." in text
    ignore = dockerignore_for(facts)
    assert ignore.splitlines()[2:6] == ["*", "!app", "!lib", "!go.work"] and "**/.git" in ignore
    # A workspace whose root is itself a module: everything at the root is source, nothing is cut.
    rooted = ModuleFacts(root=Path("/r"), module_dir=".", package=".", name="app", go=GoRelease("1.23", "go 1.23"),
                         manifests=((".", ("go.work", "go.mod")), ("lib", ("go.mod",))), vendored=False,
                         workspace=True)
    assert dockerignore_for(rooted) == generate.DOCKERIGNORE
    assert "COPY go.work go.mod ./\nCOPY lib/go.mod /src/lib/\n" in render(rooted, STATIC)


def test_pin_writes_the_digest_the_registry_resolves() -> None:
    asked: list[tuple[str, str, str]] = []

    class Reg:
        def __init__(self, host: str) -> None:
            self.host = host

        def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
            asked.append((self.host, repo, ref))
            return b"{}", "application/vnd.oci.image.index.v1+json", "sha256:" + "ab" * 32

    assert pin.pin("golang:1.22.5", Reg) == ("golang:1.22.5@sha256:" + "ab" * 32, None)
    assert asked == [("docker.io", "library/golang", "1.22.5")]
    assert pin.pin("r.example/x@sha256:" + "cd" * 32, Reg) == ("r.example/x@sha256:" + "cd" * 32, None)

    class Down(Reg):
        def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
            raise BadInput(f"{self.host}: connection failed after 2 tries (ConnectionError)")

    pinned, note = pin.pin("golang:1.22.5", Down, engine=lambda r: "sha256:" + "ef" * 32)
    assert pinned == "golang:1.22.5@sha256:" + "ef" * 32 and note is not None and "local engine" in note
    with pytest.raises(BadInput, match="connection failed .* the local engine has not pulled it either"):
        pin.pin("golang:1.22.5", Down, engine=lambda r: None)
    text = render(FACTS, STATIC, pins={"BUILDER_IMAGE": "golang:1.22.5@sha256:" + "ab" * 32})
    assert "ARG BUILDER_IMAGE=golang:1.22.5@sha256:" in text and "ARG GO_VERSION" not in text


VARIANTS = {
    "default": (STATIC, Options()),
    "upx": (STATIC, Options(upx=True)),
    "debug": (STATIC, Options(debug=True)),
    "debug-continue": (STATIC, Options(debug=True, debug_continue=True)),
    "scratch": (runtime.Runtime("scratch", "scratch", ((runtime.CA_BUNDLE, runtime.CA_BUNDLE),),
                                (("ZONEINFO", "/zoneinfo.zip"),)), Options()),
    "cgo": (runtime.Runtime(runtime.GLIBC_RUNTIME, "glibc"), Options(cgo=True)),
}


def _lint(tmp: Path, names: list[str]) -> dict[str, list[dict[str, object]]]:
    """One `slimgo lint` run over the named variants (a process each would cost the unit tier seconds)."""
    (tmp / ".dockerignore").write_text(generate.DOCKERIGNORE)
    files = []
    for name in names:
        rt, opts = VARIANTS[name]
        files.append(tmp / f"Dockerfile.{name}")
        files[-1].write_text(render(FACTS, rt, opts))
    run = run_cli("lint", *files, "--json", "--threshold", "info")
    found: dict[str, list[dict[str, object]]] = {name: [] for name in names}
    for f in run.json()["findings"]:
        found[Path(str(f["file"])).name.split(".", 1)[1]].append(f)
    return found


def test_every_variant_lints_clean(tmp_path: Path) -> None:
    assert _lint(tmp_path, list(VARIANTS)) == {n: [] for n in VARIANTS}


def test_cli_refuses_bad_combinations_before_any_work(tmp_path: Path) -> None:
    """Exit 2 with one line, checked before the module is even read (the directory does not exist)."""
    run = run_cli("dockerfile", tmp_path / "nowhere", "--upx", "--debug")
    assert run.code == 2 and "cannot be debugged" in run.err and len(run.err.strip().splitlines()) == 1
    run = run_cli("dockerfile", tmp_path / "nowhere", "--debug-continue")
    assert run.code == 2 and "--debug-continue needs --debug" in run.err
    run = run_cli("dockerfile", tmp_path / "nowhere", "-o", "-", "--json")
    assert run.code == 2 and run.json()["error"]["code"] == 2 and "both want stdout" in run.json()["error"]["message"]
