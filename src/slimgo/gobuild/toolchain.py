"""Finding and asking the Go toolchain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ..errors import BadInput, ToolMissing

if TYPE_CHECKING:
    from .listing import Listing
    from .rerun import Rerun


@dataclass(frozen=True)
class Toolchain:
    go: str
    version: str
    goos: str
    goarch: str
    goroot: str

    @property
    def identity(self) -> str:
        """What `go env` says this toolchain is (gobuild/listing.py keeps a remembered answer to it)."""
        return f"{self.version} {self.goroot} {self.goos}/{self.goarch}"

    def env(self, *names: str, cwd: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        """`go env -json NAMES`: one call for all names, since each go invocation costs ~30 ms."""
        out = run_go(self.go, ["env", "-json", *names], cwd=cwd, env=extra)
        return {k: str(v) for k, v in json.loads(out).items()}


FACTS = ("GOVERSION", "GOOS", "GOARCH", "GOROOT")


@dataclass
class EarlyAnswers:
    """Go queries started before slimgo has imported itself, so their answers are ready when the plan asks.

    Importing the build path costs ~0.2 s of Python and `go env` + `go list` ~0.1 s of Go; started first,
    the two overlap instead of adding up. An answer is used once, and only by the very same query (go binary,
    arguments, directory; the environment is the process's, which nothing changes in between)."""

    _started: dict[tuple[str, tuple[str, ...], str], subprocess.Popen[str]] = field(default_factory=dict)
    # gobuild/listing.py: answers remembered (with the toolchain that gave them), and answers to remember
    _remembered: dict[tuple[str, tuple[str, ...], str], tuple[Listing, str, str]] = field(default_factory=dict)
    _to_remember: dict[tuple[str, tuple[str, ...], str], Listing] = field(default_factory=dict)
    rerun: Rerun | None = None  # the command line's last `go build`, started before these (gobuild/rerun.py)
    launched: float | None = None  # time.perf_counter() when the `slimgo` process began: a build's total counts from it

    def start(self, go: str, args: list[str], cwd: Path | None = None) -> None:
        try:
            proc = subprocess.Popen([go, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError:
            return  # asked again later, the normal way, which reports the problem
        self._started[(go, tuple(args), str(cwd or ""))] = proc

    def start_or_recall(self, go: str, args: list[str], cwd: Path) -> None:
        """start(), unless Go's answer to this query is remembered from files that have not changed since
        (gobuild/listing.py); then that answer is the one taken."""
        from .listing import listing

        key = (go, tuple(args), str(cwd))
        found = listing(go, args, str(cwd))
        recalled = found.answer() if found is not None else None
        if found is not None and recalled is not None:
            self._remembered[key] = (found, *recalled)
            return
        if found is not None:
            self._to_remember[key] = found
        self.start(go, args, cwd)

    def check_recalled(self, go: str, args: list[str], cwd: Path, toolchain: str) -> None:
        """A remembered answer stands only for the toolchain that gave it: a `go` behind a version manager's
        shim can switch versions with no file the answer is fingerprinted by changing. `go env` (asked on
        every run) names the toolchain; another one means Go is asked again, and its answer kept."""
        key = (go, tuple(args), str(cwd))
        hit = self._remembered.get(key)
        if hit is not None and hit[1] != toolchain:
            del self._remembered[key]
            self._to_remember[key] = hit[0]

    def keep(self, go: str, args: list[str], cwd: Path, answer: str, toolchain: str) -> None:
        """Remember Go's answer to a query start_or_recall started (or check_recalled turned down), once the
        caller has found it sound; `toolchain` as check_recalled compares it."""
        found = self._to_remember.pop((go, tuple(args), str(cwd)), None)
        if found is not None:
            found.save(answer, toolchain)

    def take(self, go: str, args: list[str], cwd: Path | None) -> subprocess.CompletedProcess[str] | None:
        key = (go, tuple(args), str(cwd or ""))
        if key in self._remembered:
            return subprocess.CompletedProcess([go, *args], 0, self._remembered.pop(key)[2], "")
        proc = self._started.pop(key, None)
        if proc is None:
            return None
        out, err = proc.communicate()
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def close(self) -> None:
        """Stop and reap the queries nobody asked for (the build failed first), and a `go build` nobody took."""
        for proc in self._started.values():
            proc.kill()
            proc.communicate()
        self._started.clear()
        self._remembered.clear()
        self._to_remember.clear()
        if self.rerun is not None:
            self.rerun.close()

    def __enter__(self) -> EarlyAnswers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def go_path(go: str | None = None) -> str | None:
    """The go binary: the one given, else $SLIMGO_GO, else `go` on PATH."""
    return go or os.environ.get("SLIMGO_GO") or shutil.which("go")


def run_go(go: str, args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
           early: EarlyAnswers | None = None) -> str:
    proc = early.take(go, args, cwd) if early is not None and not env else None
    if proc is None:
        full_env = {**os.environ, **(env or {})}
        try:
            proc = subprocess.run([go, *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise ToolMissing(f"go toolchain not found at {go}") from None
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise BadInput(f"go {args[0]} failed: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc.stdout


def find_toolchain(go: str | None = None, early: EarlyAnswers | None = None) -> Toolchain:
    """Locate `go` ($SLIMGO_GO, else PATH) and read the facts every build needs."""
    candidate = go_path(go)
    if not candidate:
        raise ToolMissing("the go toolchain is not installed or not on PATH (set SLIMGO_GO to its path)")
    out = run_go(candidate, ["env", "-json", *FACTS], early=early)
    facts = json.loads(out)
    return Toolchain(go=candidate, version=facts["GOVERSION"], goos=facts["GOOS"], goarch=facts["GOARCH"],
                     goroot=facts["GOROOT"])
