"""`lint --fix` on real projects' Dockerfiles, built and run by Docker: the fixed image builds and its
program starts and behaves as before (as nonroot where USER was added).

Files of the corpus whose build needs only a shell (no package manager, no network, no Go) build offline:
external bases are replaced by local stand-ins, every file they COPY from the context is a small static
Go program that prints its name and arguments. A file whose original does not build offline is skipped
(and counted: at least 10 must build).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from slimgo.dockerfile.fix import fix_text
from slimgo.dockerfile.parse import parse
from slimgo.dockerfile.rules.model import commands
from tests.support.images import SHELL_APPLETS, ensure_shell_image
from tests.support.parts import require, unique_tag

pytestmark = pytest.mark.integration
REAL = Path(__file__).resolve().parent.parent / "data" / "dockerfiles-real"
SHELL = "slimgo-test/lint-shell:1"
PROGRAM = 'package main\nimport ("fmt";"os")\nfunc main(){ fmt.Println("ran", os.Args[0], os.Args[1:], os.Getuid()) }\n'
OFFLINE_COMMANDS = set(SHELL_APPLETS) | {"set"}


def _offline_candidates() -> list[tuple[Path, str, str]]:
    out = []
    for path in sorted(REAL.iterdir()):
        if not path.name.endswith("Dockerfile"):
            continue
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        try:
            fixed, fixes = fix_text(text, path.name, None)
        except Exception:
            continue
        if not fixes:
            continue
        df = parse(fixed)
        needs = {w[0] for i in df.instructions if i.keyword == "RUN" for w in commands(i.script()) if w}
        if needs - OFFLINE_COMMANDS or any(i.keyword == "ADD" for i in df.instructions):
            continue
        out.append((path, text, fixed))
    return out


def _standins(text: str) -> str:
    """Every external FROM image becomes the local shell stand-in (stages and scratch stay)."""
    df = parse(text)
    names = {s.name.lower() for s in df.stages if s.name}
    lines = text.split("\n")
    for stage in df.stages:
        if stage.base == "scratch" or stage.base.lower() in names:
            continue
        k = stage.line - 1
        lines[k] = re.sub(r"^(\s*FROM\s+(?:--\S+\s+)*)\S+", lambda m: m.group(1) + SHELL, lines[k], flags=re.I)
    return "\n".join(lines)


def _context(tmp: Path, text: str, program: Path) -> Path:
    ctx = tmp / "ctx"
    ctx.mkdir()
    for inst in parse(text).instructions:
        if inst.keyword != "COPY" or "from" in inst.flags:
            continue
        for src in inst.words()[:-1]:
            for name, value in (("TARGETARCH", "amd64"), ("TARGETOS", "linux"), ("TARGETPLATFORM", "linux/amd64")):
                src = src.replace("${" + name + "}", value).replace("$" + name, value)  # what BuildKit sets
            rel = src.lstrip("/").replace("*", "x") or "x"
            target = ctx / rel
            if src.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                target = target / "program"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(program, target)
    return ctx


def _build(docker: str, ctx: Path, text: str, tag: str) -> subprocess.CompletedProcess[str]:
    (ctx / "Dockerfile.test").write_text(text)
    return subprocess.run([docker, "build", "-q", "-f", str(ctx / "Dockerfile.test"), "-t", tag, str(ctx)],
                          capture_output=True, text=True, timeout=300, env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def program(go_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("program")
    (d / "main.go").write_text(PROGRAM)
    (d / "go.mod").write_text("module prog\ngo 1.22\n")
    subprocess.run([go_bin, "build", "-trimpath", "-ldflags=-s -w", "-o", "program", "."], cwd=d, check=True,
                   env={**__import__("os").environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"})
    return d / "program"


def test_fixed_real_dockerfiles_build_and_run(docker: str, program: Path, tmp_path: Path) -> None:
    require(shutil.which("busybox") is not None, "busybox-static is not installed (the stand-in shell image)")
    ensure_shell_image(SHELL)
    candidates = _offline_candidates()
    built, tags = [], []
    try:
        for path, original, fixed in candidates:
            work = tmp_path / path.name
            work.mkdir()
            ctx = _context(work, original, program)
            before, after = unique_tag("lintfix-a"), unique_tag("lintfix-b")
            if _build(docker, ctx, _standins(original), before).returncode != 0:
                continue  # needs something this machine cannot give offline
            tags.append(before)
            proc = _build(docker, ctx, _standins(fixed), after)
            assert proc.returncode == 0, f"{path.name}: the fixed file no longer builds\n{proc.stderr[-1500:]}"
            tags.append(after)
            run_a = subprocess.run([docker, "run", "--rm", before], capture_output=True, text=True, timeout=60)
            run_b = subprocess.run([docker, "run", "--rm", after], capture_output=True, text=True, timeout=60)
            assert run_b.returncode == run_a.returncode, f"{path.name}: {run_a.stderr} / {run_b.stderr}"
            assert run_b.stdout.rsplit(" ", 1)[0] == run_a.stdout.rsplit(" ", 1)[0], path.name  # same program, args
            user = json.loads(subprocess.run([docker, "image", "inspect", after], capture_output=True, text=True,
                                             check=True).stdout)[0]["Config"]["User"]
            if "USER 65532:65532" in fixed and "USER 65532:65532" not in original:
                assert user == "65532:65532"
                if run_b.stdout.startswith("ran"):
                    assert run_b.stdout.split()[-1] == "65532"  # the program really ran as nonroot
            built.append(path.name)
    finally:
        if tags:
            subprocess.run([docker, "rmi", "-f", *tags], capture_output=True)
    print(f"built and ran {len(built)} fixed files: {built}")
    assert len(built) >= 10, f"only {built} built offline of {[c[0].name for c in candidates]}"
