"""`slimgo dockerfile`: the multi-stage Dockerfile slimgo would build, for teams that build with BuildKit.

It speaks the same strategy vocabulary as `slimgo build` (GoFlags): the same CGO_ENABLED, -trimpath and
-ldflags, so `slimgo analyze` reports the same build settings for both binaries. It builds offline on
Docker 20.10's built-in BuildKit: no `# syntax=` line unless asked, no heredocs, no `ADD --checksum`
(that flag needs Dockerfile frontend 1.6; 20.10's built-in frontend rejects it), so downloads are
verified with sha256sum in a RUN.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .. import __version__
from ..debug.delve import PACKAGE as DELVE_MODULE
from ..debug.delve import VERSION as DELVE_VERSION
from ..debug.image import PORT as DELVE_PORT
from ..debug.image import DebugSettings, entrypoint
from ..errors import BadInput
from ..strategy import DEFAULT, GoFlags
from .project import ModuleFacts
from .runtime import Runtime

SYNTAX = "docker/dockerfile:1"
# UPX: the upstream static release, pinned by version and checksum (Debian bookworm, the base of the
# golang:*-bookworm images, has no upx package). Release checksums as published for v4.2.4.
UPX_VERSION = "4.2.4"
UPX_SHA256 = {"amd64": "75cab4e57ab72fb4585ee45ff36388d280c7afd72aa03e8d4b9c3cbddb474193",
              "arm64": "6bfeae6714e34a82e63245289888719c41fd6af29f749a44ae3d3d166ba6a1c9"}
# busybox wget, sha256sum and an xz-capable tar; the golang images lack xz.
UPX_IMAGE = "alpine:3.22"
# Targets UPX packs Go binaries for and that were seen running after packing; others are copied unpacked.
UPX_TARGETS = "amd64 arm64"
CACHES = "--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build"
DOCKERIGNORE = """\
# written by slimgo dockerfile: keep the build context to what the build needs
.git
.github
.idea
.vscode
dist
*.tar
*.log
.env
.env.*
Dockerfile*
.dockerignore
"""


@dataclass(frozen=True)
class Options:
    upx: bool = False
    debug: bool = False
    debug_continue: bool = False
    cgo: bool = False
    syntax: bool = False
    builder: str | None = None  # image; default golang:${GO_VERSION}
    dockerfile: str = "Dockerfile"  # its path relative to the context, for the header's build command

    def check(self) -> None:
        """Refuse combinations that cannot produce a working image, before any work."""
        if self.upx and self.debug:
            raise BadInput("--upx and --debug together: a packed binary cannot be debugged (Delve reads the "
                           "file's symbols); choose one")
        if self.upx and self.cgo:
            raise BadInput("--upx on a cgo program: UPX packs static binaries only (a dynamic one breaks); "
                           "drop --upx")
        if self.debug_continue and not self.debug:
            raise BadInput("--debug-continue needs --debug")


def go_flags(opts: Options) -> GoFlags:
    """The compile flags: slimgo build's, or for --debug no optimisation and symbols kept."""
    flags = DEFAULT.flags
    if opts.debug:
        flags = GoFlags(cgo=False, trimpath=flags.trimpath, ldflags="", gcflags="all=-N -l")
    if opts.cgo:
        flags = GoFlags(cgo=True, trimpath=flags.trimpath, ldflags=flags.ldflags, gcflags=flags.gcflags)
    return flags


def _build_args(flags: GoFlags, facts: ModuleFacts) -> list[str]:
    args = ["-trimpath"] if flags.trimpath else []
    if flags.ldflags:
        args.append(f'-ldflags="{flags.ldflags}"')
    if flags.gcflags:
        args.append(f'-gcflags="{flags.gcflags}"')
    if facts.vendored and not facts.workspace:
        args.append("-mod=vendor")
    return args


def _dest(rel: str, module_dir: str) -> str:
    """Where a directory of the context goes: the context is /src, the module's WORKDIR is under it."""
    if rel == module_dir == ".":
        return "./"
    return "/src/" if rel == "." else f"/src/{rel}/"


def _json(words: list[str]) -> str:
    return "[" + ", ".join(f'"{w}"' for w in words) + "]"


def build_command(facts: ModuleFacts, dockerfile: str, context: str = ".") -> str:
    f = "" if dockerfile == "Dockerfile" else f"-f {shlex.quote(dockerfile)} "
    return f"DOCKER_BUILDKIT=1 docker build {f}-t {shlex.quote(facts.name)} {shlex.quote(context)}"


def image_args(facts: ModuleFacts, runtime: Runtime | None, opts: Options) -> dict[str, str]:
    """The images the Dockerfile pulls, as the ARG that names each and its default reference (the
    runtime's only once it is chosen)."""
    out = {"BUILDER_IMAGE": opts.builder or f"golang:{facts.go.version}"}
    if runtime is not None:
        out["RUNTIME_IMAGE"] = runtime.image
    if opts.upx:
        out["UPX_IMAGE"] = UPX_IMAGE
    return out


def render(facts: ModuleFacts, runtime: Runtime, opts: Options = Options(),
           pins: dict[str, str] | None = None) -> str:
    """pins: ARG name → digest-pinned reference (from --pin), replacing the tag defaults."""
    opts.check()
    flags = go_flags(opts)
    args = _build_args(flags, facts)
    go_env = "CGO_ENABLED=1" if opts.cgo else "CGO_ENABLED=0"
    strategy = f"{go_env} go build {' '.join(args)}" + (", UPX --best --lzma" if opts.upx else "") + \
        (", Delve" if opts.debug else "")
    out = [f"# syntax={SYNTAX}"] if opts.syntax else []
    out += [
        f"# Generated by slimgo {__version__}: {strategy}.",
        f"# Builder: golang {facts.go.version} (from {facts.go.source}). Runtime: {runtime.why}.",
        f"# Build: {build_command(facts, opts.dockerfile)}" + ("" if facts.module_dir == "." else
                                                                  f"  (in {facts.root.name}/, the context)"),
    ]
    pinned = pins or {}
    if "BUILDER_IMAGE" not in pinned and not opts.builder:
        out.append(f"ARG GO_VERSION={facts.go.version}")
    for arg, ref in image_args(facts, runtime, opts).items():
        default = "golang:${GO_VERSION}" if arg == "BUILDER_IMAGE" and not opts.builder else ref
        out.append(f"ARG {arg}={pinned.get(arg, default)}")
    out.append("")
    if opts.cgo:
        out += ["# cgo needs a C toolchain for the target: this stage runs on the target platform",
                "# (under QEMU emulation when it differs from the build machine).",
                "FROM ${BUILDER_IMAGE} AS build"]
    else:
        out.append("FROM --platform=$BUILDPLATFORM ${BUILDER_IMAGE} AS build")
    out += ["ENV GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build",
            "WORKDIR " + ("/src" if facts.module_dir == "." else f"/src/{facts.module_dir}")]
    target_env = "" if opts.cgo else "GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} "
    if not opts.cgo:
        out.append("ARG TARGETOS TARGETARCH TARGETVARIANT")
    if opts.debug:
        out += _delve(target_env)
    if not facts.vendored:
        for rel, files in facts.manifests:
            srcs = " ".join(f if rel == "." else f"{rel}/{f}" for f in files)
            out.append(f"COPY {srcs} {_dest(rel, facts.module_dir)}")
        if facts.workspace:
            out.append("# No `go mod download` step: in workspace mode it tries to fetch the workspace's own "
                       "modules; the cache mount keeps downloads between builds.")
        else:
            out.append("RUN --mount=type=cache,target=/go/pkg/mod go mod download")
    out.append("COPY . " + ("." if facts.module_dir == "." else "/src/"))
    out += [f"RUN {CACHES} \\",
            f"    {go_env} {target_env}\\",
            f"    go build {' '.join(args)} -o /out/{facts.name} {facts.package}"]
    if any(src == "/out/zoneinfo.zip" for src, _ in runtime.copies):
        out.append('RUN cp "$(go env GOROOT)/lib/time/zoneinfo.zip" /out/zoneinfo.zip')
    binary_stage = "build"
    if opts.upx:
        out += _upx_stage(facts.name)
        binary_stage = "upx"
    return "\n".join([*out, *_runtime_stage(facts.name, runtime, opts, binary_stage), ""])


def _delve(target_env: str) -> list[str]:
    return ["# Delve for the target platform (it runs in the image), static so it needs no libc. Its go.mod",
            "# may ask for a newer Go than the builder's: GOTOOLCHAIN=auto fetches that release for this step.",
            f"ARG DELVE_VERSION={DELVE_VERSION}",
            f"RUN {CACHES} \\",
            f"    CGO_ENABLED=0 {target_env}GOBIN= GOTOOLCHAIN=auto \\",
            f'    go install -trimpath -ldflags="{DEFAULT.flags.ldflags}" {DELVE_MODULE}@${{DELVE_VERSION}} \\',
            '    && bin="$(go env GOPATH)/bin" && mkdir -p /out \\',
            '    && cross="$bin/${TARGETOS}_${TARGETARCH}/dlv" \\',
            '    && if [ -f "$cross" ]; then cp "$cross" /out/dlv; else cp "$bin/dlv" /out/dlv; fi']


def _runtime_stage(name: str, runtime: Runtime, opts: Options, binary_stage: str) -> list[str]:
    out = ["", "FROM ${RUNTIME_IMAGE}"]
    out += [f"COPY --from=build {src} {dst}" for src, dst in runtime.copies]
    out += [f"ENV {k}={v}" for k, v in runtime.env]
    out.append(f"COPY --from={binary_stage} /out/{name} /app/{name}")
    entry = [f"/app/{name}"]
    if opts.debug:
        out += ["COPY --from=build /out/dlv /app/dlv",
                "# dlv exec starts the program under Delve: no ptrace capability needed (attach would need it).",
                f"EXPOSE {DELVE_PORT}"]
        entry = entrypoint(name, "app", DebugSettings(DELVE_VERSION, opts.debug_continue), dlv="/app/dlv")
    return [*out, "USER 65532:65532", f"ENTRYPOINT {_json(entry)}"]


def _upx_stage(name: str) -> list[str]:
    sums = [f"ARG UPX_SHA256_{arch.upper()}={digest}" for arch, digest in sorted(UPX_SHA256.items())]
    cases = " ".join(f'{arch}) sum="$UPX_SHA256_{arch.upper()}" ;;' for arch in sorted(UPX_SHA256))
    return [
        "",
        "# UPX runs on the build machine; it packs binaries of any architecture.",
        "FROM --platform=$BUILDPLATFORM ${UPX_IMAGE} AS upx",
        f"ARG UPX_VERSION={UPX_VERSION}",
        "ARG UPX_URL=https://github.com/upx/upx/releases/download/v${UPX_VERSION}",
        *sums,
        "ARG BUILDARCH",
        f'RUN case "$BUILDARCH" in {cases} \\',
        '      *) echo "no pinned UPX release for build machines of architecture $BUILDARCH" >&2; exit 1 ;; esac \\',
        '    && wget -q -O /tmp/upx.tar.xz "$UPX_URL/upx-${UPX_VERSION}-${BUILDARCH}_linux.tar.xz" \\',
        '    && echo "$sum  /tmp/upx.tar.xz" | sha256sum -c - \\',
        "    && tar -xJf /tmp/upx.tar.xz -C /tmp \\",
        '    && mkdir -p /opt/upx && mv "/tmp/upx-${UPX_VERSION}-${BUILDARCH}_linux/upx" /opt/upx/upx \\',
        "    && rm -rf /tmp/upx.tar.xz /tmp/upx-*",
        f"COPY --from=build /out/{name} /out/{name}",
        "ARG TARGETARCH",
        f'ARG UPX_TARGETS="{UPX_TARGETS}"',
        "# Packing is the last change to the binary, which the linker already stripped (-s -w): a file",
        "# modified after UPX no longer unpacks. Targets outside UPX_TARGETS are shipped unpacked.",
        'RUN case " $UPX_TARGETS " in \\',
        f'      *" $TARGETARCH "*) /opt/upx/upx --best --lzma /out/{name} && /opt/upx/upx -t /out/{name} ;; \\',
        '      *) echo "UPX: not packing for $TARGETARCH (not in UPX_TARGETS)" ;; esac',
    ]
