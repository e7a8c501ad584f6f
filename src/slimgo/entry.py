"""The `slimgo` process: Go's first answers are asked for before the CLI is imported.

An unchanged `slimgo build DIR` is mostly waiting: ~0.1 s importing click and the CLI, then `go env` and
`go list` (about as long again), then `go build`. Here, with nothing imported but the toolchain helpers,
the target is read off argv and those two queries start at once, so they run while Python imports the rest.
The guess needs no click: a wrong one (an option this list does not know takes a value, say) costs a `go list`
nobody takes, since an early answer only serves the very same query (gobuild.toolchain.EarlyAnswers).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms before `go build` can start (mypy knows the name)
if TYPE_CHECKING:
    from .gobuild.toolchain import EarlyAnswers

# `build`'s options that take a value (tests/unit/test_entry.py keeps this in step with the command).
BUILD_VALUE_OPTIONS = frozenset({
    "--ldflags", "--gcflags", "--tags", "--env", "--base", "--user", "--platform", "--compression",
    "--compression-level", "--gzip-library", "--data", "--tag", "-t", "--oci-layout", "--tarball", "-o",
    "--image-refs", "--insecure-registry", "--username", "--upx-args", "--upx-path", "--delve-version",
    "--debug-config", "--builder", "--builder-image", "--jobs", "-j", "--sbom", "--sign-key", "--format",
})
# Options whose value may be left out: click takes the next word as the value unless it is an option.
BUILD_OPTIONAL_VALUE = frozenset({"--push"})
# Flags that make `build` build several programs (many.build), which asks Go its own way.
_MANY_FLAGS = frozenset({"--bare", "--base-import-paths", "-B", "--preserve-import-paths", "-P", "--jobs", "-j"})


def build_targets(argv: list[str]) -> list[str] | None:
    """The TARGETs of a `slimgo build` command line, or None when it is not one (or asks for help)."""
    if not argv or argv[0] != "build":
        return None
    targets: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            return targets + argv[i:]
        if arg in ("-h", "--help") or arg.split("=", 1)[0] in _MANY_FLAGS:
            return None
        if not arg.startswith("-"):
            targets.append(arg)
        elif arg in BUILD_VALUE_OPTIONS or (arg in BUILD_OPTIONAL_VALUE and i < len(argv)
                                            and not argv[i].startswith("-")):
            i += 1  # the option's value
    return targets


def early_answers(argv: list[str]) -> EarlyAnswers | None:
    """Go's answers for the one program `slimgo build` was given, started now; None for anything else.
    First of all, the `go build` this command line ran last time, when there is one (gobuild/rerun.py)."""
    targets = build_targets(argv)
    if targets is None or len(targets) > 1 or (targets and "..." in targets[0]):
        return None
    from .gobuild.rerun import start

    rerun = None
    try:
        cache = "--no-cache" not in argv
        rerun = start(argv) if cache else None
        from .gobuild.target import ask_early

        early = ask_early(targets[0] if targets else ".", remember=cache)
    except BaseException:  # an interrupt while importing: the started `go build` must not outlive us
        if rerun is not None:
            rerun.close()
        raise
    early.rerun = rerun
    return early


def command() -> None:
    """The `slimgo` command (and `python -m slimgo`). When `main` returns, every output is closed and in
    place; what the interpreter would do next (join finished pool threads, free every module's objects) took
    40–100 ms of a 0.25 s unchanged rebuild, so the process ends as soon as stdout and stderr are flushed.
    Library callers use `slimgo.cli.main`, which returns."""
    launched = time.perf_counter()
    argv = sys.argv[1:]
    early = None
    import signal

    signal.signal(signal.SIGTERM, _terminated)  # as cli.main does, already while Python imports it
    try:
        early = early_answers(argv)
        if early is not None:
            early.launched = launched
        from .cli import main

        code = main(early=early)
    except KeyboardInterrupt:  # while Python imports the CLI, before it maps interrupts itself
        code = _interrupted(argv)
    finally:
        if early is not None:
            early.close()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C (exit 130, nothing half-written, a started `go build` stopped)."""
    raise KeyboardInterrupt


def _interrupted(argv: list[str]) -> int:
    """What the CLI says of an interrupt (commands.edge.run_command), for one that came before it ran."""
    sys.stderr.write("slimgo: interrupted\n")
    from .commands.edge import EXIT_INTERRUPTED, emit_json, wants_json

    if wants_json(argv):
        emit_json({"schema_version": 1, "error": {"code": EXIT_INTERRUPTED, "message": "interrupted"}})
    return EXIT_INTERRUPTED
