"""SG3xx: what makes the image unsafe or fragile in production."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from ..parse import Instruction, Stage
from .cache import copies_whole_context
from .model import Context, Hit, Rule, commands, image_name, kind_of_image, parse_assignments, runs

SECRET = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.I)
# names that hold a path, a setting or a public identifier, not the secret itself
NOT_A_SECRET = re.compile(r"(_FILE|_PATH|_DIR|_ALGO|_ALGORITHM|_LENGTH|_LEN|_TTL|_TIMEOUT|_EXPIRY|_EXPIRES|"
                          r"_TYPE|_NAME|_ID|_URL|_URI|_HEADER|_ENABLED|_POLICY|_ROTATION|_SIZE|_MODE)$", re.I)
PRIVILEGE_DROPPERS = re.compile(r"\b(su-exec|gosu|setpriv|s6-setuidgid|chpst|runuser|setuidgid|tini-static)\b")


def final_user(ctx: Context) -> str | None:
    final = ctx.df.final
    if final is None:
        return None
    for stage in ctx.stage_chain(final):
        users = stage.find("USER")
        if users:
            return users[-1].args.strip()
    return None


def drops_privileges(ctx: Context, final: Stage) -> bool:
    """The image starts as root on purpose, to drop to a user itself (su-exec, gosu, setpriv)."""
    for s in ctx.stage_chain(final):
        for i in s.instructions:
            text = i.script() if i.keyword == "RUN" else i.args
            if i.keyword in ("RUN", "ADD", "COPY", "ENTRYPOINT", "CMD") and PRIVILEGE_DROPPERS.search(text):
                return True
    return False


def _user_anchors(final: Stage) -> list[Instruction]:
    """Where a user looks for SG301: the final FROM, its USER, ENTRYPOINT and CMD (pragmas on any count)."""
    return [final.instructions[0]] + [i for i in final.instructions if i.keyword in ("USER", "ENTRYPOINT", "CMD")]


def runs_as_root(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None:
        return
    user = final_user(ctx)
    root_image = ctx.root_image(final)
    if not any(s.find("ENTRYPOINT") or s.find("CMD") for s in ctx.stage_chain(final)):
        return  # no program of its own: an artefact export (FROM scratch for --output) or a base for others
    if user is None:
        if ":nonroot" in root_image or "chainguard/static" in root_image or "slimgo" in root_image:
            return  # these bases set a non-root user themselves
        if drops_privileges(ctx, final) or "$" in root_image:
            return  # the base comes from a build argument: it may set its own USER, cannot tell
        yield _user_anchors(final), "final stage runs as root (no USER)", "add USER 65532:65532 (nonroot)"
    elif user.split(":")[0] in ("root", "0") and not drops_privileges(ctx, final):
        last = final.find("USER")[-1] if final.find("USER") else final.instructions[0]
        yield [last, *_user_anchors(final)], "final stage explicitly runs as root", "use USER 65532:65532"


def non_numeric_user(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None:
        return
    user = final_user(ctx)
    if user and not re.fullmatch(r"\d+(:\d+)?", user) and not user.startswith("$") and \
            kind_of_image(ctx.root_image(final)) == "static":
        inst = final.find("USER")[-1] if final.find("USER") else final.instructions[0]
        yield inst, f"USER {user} is a name on a static/distroless base", \
            "use numeric IDs (USER 65532:65532): Kubernetes runAsNonRoot cannot verify names, scratch has no passwd"


def shell_form_entrypoint(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None:
        return
    static = kind_of_image(ctx.root_image(final)) == "static"
    for inst in final.instructions:
        if inst.keyword in ("ENTRYPOINT", "CMD") and not inst.is_json and inst.args:
            if inst.args.lstrip().startswith("["):
                yield inst, f"{inst.keyword} looks like exec form but is not a valid JSON array of strings: " \
                    "Docker runs it with /bin/sh -c", f'write valid JSON: {inst.keyword} ["/app", "arg"]'
                continue
            extra = " and the static base has no /bin/sh, so it will not start" if static else ""
            yield inst, f"shell-form {inst.keyword}: runs under /bin/sh -c, signals do not reach the program{extra}", \
                f'use exec form: {inst.keyword} ["{inst.words()[0]}", ...]'


FLOATING_TAGS = re.compile(r"^[A-Za-z-]*$")  # no version number at all: alpine, bookworm, edge, stable-slim


def unpinned_base(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        if ctx.parent(stage) is not None:
            continue  # FROM an earlier stage
        ref = ctx.resolved_base(stage)
        if ref == "scratch" or "$" in ref or not ref:
            continue  # an ARG with no default: the value comes from the build command, cannot tell
        _, tag = image_name(ref)
        if tag in ("", "latest"):
            yield stage.instructions[0], f"base image {ref!r} is not pinned ({'latest' if tag else 'no tag'})", \
                "pin a version tag, or better a digest (image@sha256:…)"
        elif kind_of_image(ref) == "toolchain" and FLOATING_TAGS.match(tag):
            yield stage.instructions[0], f"builder image {ref!r} floats: the tag names no Go version, so the " \
                "compiler changes under you", "pin the Go version: golang:1.23-alpine (or a digest)"


def secret_names(ctx: Context) -> Iterator[Hit]:
    for inst in ctx.df.instructions:
        if inst.keyword not in ("ENV", "ARG"):
            continue
        for name, value in parse_assignments(inst.args, inst.keyword).items():
            if not SECRET.search(name) or NOT_A_SECRET.search(name):
                continue
            if value.startswith("/") or value.lower() in ("true", "false", "bcrypt", "argon2", "scrypt", "sha256"):
                continue  # a path or a setting
            yield inst, f"{inst.keyword} {name}: secrets in ENV/ARG end up in the image config and history", \
                "use BuildKit secrets (RUN --mount=type=secret,id=…), or pass a *_FILE path"
            break


def _has_dockerignore(ctx: Context) -> bool | None:
    """True/False when the context's .dockerignore is known; None when the context cannot be told."""
    df_dir = ctx.dockerfile_dir
    name = Path(ctx.df.path).name
    if df_dir is not None and (df_dir / f"{name}.dockerignore").exists():
        return True  # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile first
    if ctx.directory is None:
        return None
    if (ctx.directory / ".dockerignore").exists():
        return True
    if ctx.directory == df_dir:
        for d in ctx.directory.resolve().parents:
            if (d / ".dockerignore").exists():
                return None  # built from a parent directory (cmd/x/Dockerfile from the repo root): cannot tell
            if (d / ".git").exists():
                break
    return False


def no_dockerignore(ctx: Context) -> Iterator[Hit]:
    if _has_dockerignore(ctx) is not False:
        return
    for inst in ctx.df.instructions:
        if copies_whole_context(inst):
            yield inst, "COPY . . with no .dockerignore: .git, build outputs and local secrets enter the context", \
                "add a .dockerignore (slimgo dockerfile writes one), or give --context if the context is elsewhere"
            return


WORLD_WRITABLE = re.compile(r"^(0?777|0?666|[augo]*[ao][augo]*\+[rwxXst]*w[rwxXst]*|o\+\w*w\w*)$")


def world_writable(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None:
        return
    for stage in ctx.stage_chain(final):
        for inst in runs(stage):
            for words in commands(inst.script()):
                if words[:1] == ["chmod"] and any(WORLD_WRITABLE.match(w) for w in words[1:]):
                    yield inst, "chmod makes files world-writable in the final image: any process can replace them", \
                        "give the files to the runtime user (COPY --chown=65532:65532) and keep modes 0755/0644"
                    break


DOWNLOADERS = ("curl", "wget")
VERIFIERS = re.compile(r"\b(sha256sum|sha512sum|sha1sum|shasum|md5sum|gpg|gpgv|cosign|minisign|signify|"
                       r"--checksum|openssl\s+dgst|b3sum|slsa-verifier)\b")
BINARY_URL = re.compile(r"https?://\S+?(\.tar\.gz|\.tgz|\.tar\.xz|\.tar\.bz2|\.zip|\.gz|\.xz|\.deb|\.rpm|\.apk|"
                        r"\.bin|\.sh|\.exe|/releases/download/\S*|-linux-\S*|_linux_\S*|/bin/\S*)(\?\S*)?$")


def download_unverified(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        for inst in runs(stage):
            script = inst.script()
            if not any(d in script for d in DOWNLOADERS) or VERIFIERS.search(script):
                continue
            for words in commands(script):
                if words and words[0].rsplit("/", 1)[-1] in DOWNLOADERS and \
                        any(BINARY_URL.match(w.strip("'\"")) for w in words[1:]):
                    yield inst, f"{words[0]} downloads a binary or archive with no checksum or signature check", \
                        "verify it: echo \"<sha256>  file\" | sha256sum -c - (or ADD --checksum=sha256:…)"
                    break


RULES = [
    Rule("SG301", "warning", "final stage runs as root",
         "A container running as root turns a bug into a root process inside the namespace. Static Go "
         "binaries need no privileges: run as nonroot 65532. Quiet when the entrypoint drops privileges "
         "itself (su-exec, gosu, setpriv), and for images that declare no ENTRYPOINT or CMD (artefact exports, "
         "bases for other images). A pragma above the final FROM, USER, ENTRYPOINT or CMD silences it.",
         runs_as_root, fixable=True),
    Rule("SG302", "warning", "non-numeric USER on a static base",
         "Kubernetes' runAsNonRoot can only verify numeric users, and scratch has no /etc/passwd to resolve "
         "names in.", non_numeric_user),
    Rule("SG303", "warning", "shell-form ENTRYPOINT or CMD",
         "Shell form wraps the program in /bin/sh -c. SIGTERM goes to the shell, not to the program, and "
         "distroless or scratch images have no shell, so the container fails to start.",
         shell_form_entrypoint, fixable=True),
    Rule("SG304", "warning", "base image not pinned",
         "`latest`, a missing tag, or a builder tag with no Go version (golang:alpine) makes builds change "
         "under you. Pin a tag, or a digest for reproducible builds.", unpinned_base),
    Rule("SG305", "error", "secret in ENV or ARG",
         "ENV values are stored in the image config. ARG values show in `docker history`. Use BuildKit secret "
         "mounts. Names that hold a path (*_FILE) or a setting (*_ALGO) are not secrets.", secret_names),
    Rule("SG306", "warning", "COPY . . without .dockerignore",
         "Without a .dockerignore, the whole directory is the build context, .git and any local .env files "
         "included. It can leak into layers and it busts the cache. When the context is not the Dockerfile's "
         "directory, give it with --context.", no_dockerignore),
    Rule("SG307", "warning", "world-writable files in the final image",
         "chmod 777 (or o+w) lets any process in the container, whatever its user, replace the program or its "
         "configuration.", world_writable),
    Rule("SG308", "warning", "download without a checksum",
         "curl or wget of a binary or archive with no checksum or signature check runs whatever the server "
         "(or anyone on the path) sends. Pin the content with a sha256.", download_unverified),
]
