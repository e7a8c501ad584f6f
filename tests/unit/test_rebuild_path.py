"""Issue 12, the rebuild path. `go env` and `go list` are started before Python imports the build path and their
answers are used only by the very same query; the compile runs beside the registry checks, and a failed check
stops the Go process instead of waiting for it; a binary seen before has its needs from the cache, keyed by its
layer's digest, and a bad cache entry costs a recomputation, never a wrong answer."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from slimgo.errors import BadInput
from slimgo.gobuild.target import _LIST, ask_early, resolve
from slimgo.gobuild.toolchain import EarlyAnswers, find_toolchain, go_path
from tests.support.parts import HELLO, require

if TYPE_CHECKING:
    from slimgo.gobuild.build import BuiltBinary
    from slimgo.stages.bases import BaseChoice
    from slimgo.stages.plan import BuildPlan


@pytest.fixture()
def go() -> str:
    found = go_path()
    require(found is not None and shutil.which(found) is not None, "the Go toolchain is not installed")
    assert found is not None
    return found


def test_early_answers_resolve_the_same_target_and_are_used_once(go: str) -> None:
    early = ask_early(str(HELLO))
    toolchain = find_toolchain(None, early)
    target = resolve(str(HELLO), toolchain, early)
    assert target == resolve(str(HELLO), find_toolchain())  # the same answer as asking late
    assert early.take(go, _LIST, HELLO.resolve()) is None  # consumed: a second query asks Go again
    early.close()


def test_an_early_answer_serves_only_its_own_directory(go: str, tmp_path: Path) -> None:
    with ask_early(str(HELLO)) as early:
        assert early.take(go, _LIST, tmp_path) is None
        assert early.take(go, ["env", "-json", "GOPATH"], None) is None
        got = early.take(go, _LIST, HELLO.resolve())
        assert got is not None and got.returncode == 0 and got.stdout.startswith("main\texample.com/hello\t")


def test_unasked_early_queries_are_stopped_and_reaped(tmp_path: Path) -> None:
    started = tmp_path / "started"
    os.mkfifo(started)
    blocker = _script(tmp_path / "blocker", f'echo $$ > "{started}"\nexec sleep 600\n')
    early = EarlyAnswers()
    early.start(str(blocker), [])
    pid = int(started.read_text())  # blocks until the query runs
    early.close()  # kills and waits: returns only once the process is gone
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_failed_check_stops_the_compile_running_beside_it(go: str, tmp_path: Path) -> None:
    """A `go` that never finishes a build, and a base check that fails once that build has started: the
    check's error comes back and the Go process is gone (killed and reaped), not waited for."""
    from slimgo.pipeline import BuildRequest, Session, _Clock, _compile_while_checking
    from slimgo.stages.plan import plan

    started = tmp_path / "started"
    os.mkfifo(started)
    fake_go = _script(tmp_path / "go", f'if [ "$1" = build ]; then echo $$ > "{started}"; exec sleep 600; fi\n'
                                       f'exec "{go}" "$@"\n')
    pids: list[int] = []

    class RefusingBase(Session):
        def bases(self, p: BuildPlan, progress: Callable[[str], None]) -> BaseChoice:
            pids.append(int(started.read_text()))  # blocks until the fake build has started
            raise BadInput("base refused")

    req = BuildRequest(target=str(HELLO), tarball=tmp_path / "out.tar")
    p = plan(req, {})
    p = replace(p, toolchain=replace(p.toolchain, go=str(fake_go)))
    (tmp_path / "work").mkdir()
    with pytest.raises(BadInput, match="base refused"):
        _compile_while_checking(p, RefusingBase(req), tmp_path / "work", lambda _: None, _Clock())
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
    assert not (tmp_path / "out.tar").exists()


def _go_program(tmp_path: Path) -> BuiltBinary:
    """The toolchain's own `go` command: a real Go program, copied so the test owns the file."""
    from slimgo.gobuild.build import BuiltBinary
    from slimgo.platform import Platform
    from slimgo.strategy import DEFAULT

    found = shutil.which(go_path() or "go")
    require(found is not None, "the Go toolchain is not installed")
    copy = tmp_path / "go"
    shutil.copy(Path(found or "").resolve(), copy)
    return BuiltBinary(copy, "go", Platform.parse("linux/amd64"), DEFAULT.flags, 0.0, copy.stat().st_size)


def test_needs_are_cached_under_the_layer_digest_and_a_bad_entry_is_recomputed(tmp_path: Path) -> None:
    from slimgo.oci.cache import LayerCache
    from slimgo.stages.inspect import NEEDS_KIND, inspect, needs_key

    binary = _go_program(tmp_path)
    cache = LayerCache(tmp_path / "cache")
    first = inspect(binary, cache=cache, key="sha256:" + "1" * 64)
    assert first.needs is not None and first.needs.dns  # the go command resolves module proxy hosts
    stored = cache.get_doc(NEEDS_KIND, needs_key("sha256:" + "1" * 64))
    assert stored == first.needs.to_json()
    # The entry is what a hit returns: a planted (well-formed) answer is served, which is why the key must be
    # the digest of every byte of the binary and of the rules that computed it.
    planted = {**first.needs.to_json(), "dns": False}
    cache.put_doc(NEEDS_KIND, needs_key("sha256:" + "1" * 64), planted)
    assert inspect(binary, cache=cache, key="sha256:" + "1" * 64).needs.to_json() == planted  # type: ignore[union-attr]
    # A malformed entry is ignored: the function table is read again and the entry rewritten.
    for bad in ({"dns": "yes"}, [1, 2], {**planted, "extra": True}):
        cache.put_doc(NEEDS_KIND, needs_key("sha256:" + "1" * 64), bad)
        assert inspect(binary, cache=cache, key="sha256:" + "1" * 64).needs == first.needs
    # Another digest is another entry; no key, no cache.
    assert inspect(binary, cache=cache, key="sha256:" + "2" * 64).needs == first.needs
    assert needs_key("sha256:" + "1" * 64) != needs_key("sha256:" + "2" * 64)
    assert len(list((tmp_path / "cache" / NEEDS_KIND).glob("needs-*.json"))) == 2
    assert inspect(binary, cache=cache).needs == first.needs


def test_a_cached_document_that_is_nested_brackets_or_too_big_is_a_miss(tmp_path: Path) -> None:
    """The cache is a folder anyone with access can edit: an entry of nested brackets raised RecursionError
    (an internal error, exit 70), and one bigger than the limit is not read whole."""
    from slimgo.oci.cache import MAX_DOC, LayerCache

    cache = LayerCache(tmp_path / "cache")
    key = "needs-" + "a" * 64
    cache.put_doc("needs", key, {"dns": True})
    assert cache.get_doc("needs", key) == {"dns": True}
    entry = next((tmp_path / "cache" / "needs").glob("needs-*.json"))
    for planted in ("[" * 60_000, " " * MAX_DOC + "{}"):
        entry.write_text(planted)
        assert cache.get_doc("needs", key) is None


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    assert sys.platform.startswith("linux")
    return path


@pytest.mark.timeout(60)
def test_an_interrupt_of_several_programs_stops_their_go_builds(go: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM (CI cancelling `build ./...`) reaches only slimgo, not its `go build` children, and the workers'
    threads never hear of it: the interrupt waited for every running program's whole build (and its push)."""
    import signal
    import threading
    import time

    from slimgo.many.build import ManyRequest, build_many
    from slimgo.pipeline import BuildRequest

    started, pids = tmp_path / "started", tmp_path / "pids"
    os.mkfifo(started)
    fake_go = _script(tmp_path / "go", f'if [ "$1" = build ]; then echo $$ >> "{pids}"; echo $$ > "{started}"; '
                                       f'exec sleep 600; fi\nexec "{go}" "$@"\n')
    mod = tmp_path / "mod"
    for name in ("a", "b"):
        (mod / "cmd" / name).mkdir(parents=True)
        (mod / "cmd" / name / "main.go").write_text("package main\n\nfunc main() {}\n")
    (mod / "go.mod").write_text("module example.com/mod\n\ngo 1.22\n")
    monkeypatch.chdir(mod)
    monkeypatch.setenv("SLIMGO_GO", str(fake_go))

    def interrupt_once_a_build_runs() -> None:
        started.read_text()  # blocks until the first fake `go build` runs
        keep = os.open(started, os.O_RDONLY | os.O_NONBLOCK)  # later builds' echo must not block on the FIFO
        # SIGINT to slimgo's main thread only, as SIGTERM from CI reaches slimgo and not its children (cli.py
        # turns SIGTERM into KeyboardInterrupt); a real signal, so the main thread's blocked wait is woken.
        signal.pthread_kill(main, signal.SIGINT)
        os.close(keep)

    main = threading.main_thread().ident or 0
    threading.Thread(target=interrupt_once_a_build_runs, daemon=True).start()
    template = BuildRequest(oci_layout=tmp_path / "out", reference_build=False, cache=False)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        build_many(ManyRequest(("./...",), template, jobs=2, env={}))
    assert time.monotonic() - t0 < 45  # not the fake build's 600 s
    for pid in pids.read_text().split():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    assert not (tmp_path / "out").exists()
