"""A generated Go monorepo: N main packages under cmd/, one shared internal package, and optionally a
broken program, a test-only package and real dependencies (fetched through the module proxy by `go mod tidy`).
Used by the many-program tests (no dependencies: nothing to download) and by benchmarks/monorepo_bench.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

MODULE = "example.com/slimgo-multi"


def write_monorepo(root: Path, services: list[str], *, broken: bool = False, test_only: bool = False,
                   requires: tuple[str, ...] = (), imports: tuple[str, ...] = (), module: str = MODULE) -> Path:
    """requires: module@version, added with `go get`; imports: packages every service imports (blank)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {module}\n\ngo 1.21\n")
    (root / "internal" / "greet").mkdir(parents=True, exist_ok=True)
    (root / "internal" / "greet" / "greet.go").write_text(
        'package greet\n\nfunc Hello(name string) string { return "hello from " + name }\n')
    blank = "".join(f'\t_ "{pkg}"\n' for pkg in imports)
    for name in services:
        d = root / "cmd" / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "main.go").write_text(
            f'package main\n\nimport (\n\t"fmt"\n\n\t"{module}/internal/greet"\n{blank})\n\n'
            f'func main() {{ fmt.Println(greet.Hello("{name}")) }}\n')
    if broken:
        (root / "cmd" / "broken").mkdir(parents=True, exist_ok=True)
        (root / "cmd" / "broken" / "main.go").write_text("package main\n\nfunc main() { undefinedName() }\n")
    if test_only:
        (root / "testonly").mkdir(exist_ok=True)
        (root / "testonly" / "x_test.go").write_text(
            'package testonly\n\nimport "testing"\n\nfunc TestNothing(t *testing.T) {}\n')
    if requires:
        for r in requires:
            subprocess.run(["go", "get", r], cwd=root, check=True, capture_output=True)
        subprocess.run(["go", "mod", "tidy"], cwd=root, check=True, capture_output=True)
    return root
