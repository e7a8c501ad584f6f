"""The CLI as a user runs it: in-process (`run`, fast; for what involves no real part), or in a subprocess
(`slimgo`, for tests that involve real parts, signals or a fresh interpreter)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def slimgo(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
           timeout: float = 600) -> Run:
    """Run the real CLI in a subprocess, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "slimgo", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run(*args: str | Path, stdin: str = "") -> Run:
    """Run the CLI's entry point in this process: same argument parsing, error mapping and exit codes."""
    from slimgo.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin, old_term = sys.stdin, signal.getsignal(signal.SIGTERM)
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        sys.stdin = old_stdin
        signal.signal(signal.SIGTERM, old_term)  # main() turns SIGTERM into an interrupt; not pytest's
    return Run(code, out.getvalue(), err.getvalue())
