"""SG3xx: what makes the image unsafe or fragile in production."""

from __future__ import annotations

import re
from typing import Iterator

from ..parse import Instruction
from .base import Context, Rule, image_name, kind_of_image
from .cache import copies_whole_context

Where = tuple[Instruction | int, str, str]
SECRET = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.I)


def final_user(ctx: Context) -> str | None:
    final = ctx.df.final
    if final is None:
        return None
    for stage in ctx.stage_chain(final):
        users = stage.find("USER")
        if users:
            return users[-1].args.strip()
    return None


def runs_as_root(ctx: Context) -> Iterator[Where]:
    final = ctx.df.final
    if final is None:
        return
    user = final_user(ctx)
    root_image = ctx.root_image(final)
    if user is None:
        if ":nonroot" in root_image or "chainguard/static" in root_image or "slimgo" in root_image:
            return  # these bases set a non-root user themselves
        yield final.instructions[0], "final stage runs as root (no USER)", "add USER 65532:65532 (nonroot)"
    elif user.split(":")[0] in ("root", "0"):
        yield final.find("USER")[-1] if final.find("USER") else final.instructions[0], \
            "final stage explicitly runs as root", "use USER 65532:65532"


def non_numeric_user(ctx: Context) -> Iterator[Where]:
    final = ctx.df.final
    if final is None:
        return
    user = final_user(ctx)
    if user and not re.fullmatch(r"\d+(:\d+)?", user) and not user.startswith("$") and \
            kind_of_image(ctx.root_image(final)) == "static":
        inst = final.find("USER")[-1] if final.find("USER") else final.instructions[0]
        yield inst, f"USER {user} is a name on a static/distroless base", \
            "use numeric IDs (USER 65532:65532): Kubernetes runAsNonRoot cannot verify names, scratch has no passwd"


def shell_form_entrypoint(ctx: Context) -> Iterator[Where]:
    final = ctx.df.final
    if final is None:
        return
    static = kind_of_image(ctx.root_image(final)) == "static"
    for inst in final.instructions:
        if inst.keyword in ("ENTRYPOINT", "CMD") and not inst.is_json and inst.args:
            extra = " and the static base has no /bin/sh, so it will not start" if static else ""
            yield inst, f"shell-form {inst.keyword}: runs under /bin/sh -c, signals do not reach the program{extra}", \
                f'use exec form: {inst.keyword} ["{inst.words()[0]}", ...]'


def unpinned_base(ctx: Context) -> Iterator[Where]:
    names = {s.name.lower() for s in ctx.df.stages if s.name}
    for stage in ctx.df.stages:
        ref = ctx.resolved_base(stage)
        if ref == "scratch" or ref.lower() in names or "$" in ref:
            continue
        _, tag = image_name(ref)
        if tag in ("", "latest"):
            yield stage.instructions[0], f"base image {ref!r} is not pinned ({'latest' if tag else 'no tag'})", \
                "pin a version tag, or better a digest (image@sha256:…)"


def secret_names(ctx: Context) -> Iterator[Where]:
    for inst in ctx.df.instructions:
        if inst.keyword not in ("ENV", "ARG"):
            continue
        for word in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", inst.args):
            if SECRET.search(word):
                yield inst, f"{inst.keyword} {word}: secrets in ENV/ARG end up in the image config and history", \
                    "use BuildKit secrets: RUN --mount=type=secret,id=…"
                break


def no_dockerignore(ctx: Context) -> Iterator[Where]:
    if ctx.directory is None or (ctx.directory / ".dockerignore").exists():
        return
    for inst in ctx.df.instructions:
        if copies_whole_context(inst):
            yield inst, "COPY . . with no .dockerignore: .git, build outputs and local secrets enter the context", \
                "add a .dockerignore (slimgo dockerfile writes one)"
            return


RULES = [
    Rule("SG301", "warning", "final stage runs as root",
         "A container running as root turns a bug into a root process inside the namespace. Static Go "
         "binaries need no privileges: run as nonroot 65532.", runs_as_root, fixable=True),
    Rule("SG302", "warning", "non-numeric USER on a static base",
         "Kubernetes' runAsNonRoot can only verify numeric users, and scratch has no /etc/passwd to resolve "
         "names in.", non_numeric_user),
    Rule("SG303", "warning", "shell-form ENTRYPOINT or CMD",
         "Shell form wraps the program in /bin/sh -c. SIGTERM goes to the shell, not to the program, and "
         "distroless or scratch images have no shell, so the container fails to start.",
         shell_form_entrypoint, fixable=True),
    Rule("SG304", "warning", "base image not pinned",
         "`latest` or a missing tag makes builds change under you. Pin a tag, or a digest for reproducible "
         "builds.", unpinned_base),
    Rule("SG305", "error", "secret in ENV or ARG",
         "ENV values are stored in the image config. ARG values show in `docker history`. Use BuildKit secret "
         "mounts.", secret_names),
    Rule("SG306", "warning", "COPY . . without .dockerignore",
         "Without a .dockerignore, the whole directory is the build context, .git and any local .env files "
         "included. It can leak into layers and it busts the cache.", no_dockerignore),
]
