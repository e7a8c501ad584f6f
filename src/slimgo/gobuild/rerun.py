"""The last `go build` of a command line, started again before slimgo has imported itself.

An unchanged `slimgo build` spent its first ~0.13 s in Python (the interpreter, click, the CLI, the plan)
before `go build` was spawned, and bare `go build` needs less than that to find everything up to date. After
a successful build, the exact `go build` it ran (arguments, directory, the environment it added) is written
down under the command line and directory that asked for it. The next run of the same command line starts
that `go build` from the entry point (slimgo.entry), under the lock of its link-output slot, while the rest
of slimgo imports; the compile step takes it over only if the plan asks for exactly that command, in that
directory, with exactly that environment (gobuild.build.compile_binary), and kills it otherwise. The binary
is therefore always the one the plan's own `go build` would have written.

A recipe is a command, so it is read only from a cache nobody else could have written: the cache directory
must be given as an absolute path (a relative $SLIMGO_CACHE would name a directory inside whatever project
one stands in, which a checkout or an archive can fill), the link outputs' directory, the recipes' directory
and the recipe must belong to the current user and be writable by nobody else, its `go` must be the one this
run uses, its arguments the shape compile_binary writes (`build -v` [-trimpath, -ldflags=, -gcflags=,
-tags=] `-o SLOT/NAME .`), what it adds to the environment only the platform and CGO_ENABLED=0, and its
output in one of the link outputs' own slots. Anything else only costs the head start.

Only os, subprocess and fcntl are imported here (no pathlib, no dataclasses): every millisecond before the
spawn is a millisecond the build waits.
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import time

from ..cachedir import configured_cache_dir, link_dir, replace_quietly
from .slotfile import LOCK_NAME, RECIPES, remove, still_there, whole

RECIPE_VERSION = "slimgo-rerun-v1"
_MAX_RECIPE = 64 * 1024


class Recipe:
    """One `go build` exactly as compile_binary ran it: the go binary and its arguments (build -v … -o SLOT/NAME
    .), the directory, what it added to the process environment, and the link-output slot it writes into."""

    __slots__ = ("go", "args", "cwd", "env", "slot")

    def __init__(self, go: str, args: tuple[str, ...], cwd: str, env: tuple[tuple[str, str], ...], slot: str):
        self.go, self.args, self.cwd, self.env, self.slot = go, args, cwd, env, slot

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recipe) and self.encode() == other.encode()

    __hash__ = None  # type: ignore[assignment]

    def encode(self) -> bytes:
        fields = [RECIPE_VERSION, self.go, self.cwd, self.slot, str(len(self.args)), *self.args,
                  *(f"{k}={v}" for k, v in self.env)]
        return "\0".join(fields).encode("utf-8", "surrogateescape")

    @staticmethod
    def decode(data: bytes) -> Recipe | None:
        fields = data.decode("utf-8", "surrogateescape").split("\0")
        if len(fields) < 5 or fields[0] != RECIPE_VERSION or not (fields[4].isascii() and fields[4].isdecimal()):
            return None
        n = int(fields[4])
        args, pairs = fields[5:5 + n], fields[5 + n:]
        if len(args) != n or any("=" not in p for p in pairs):
            return None
        env = tuple((k, v) for k, _, v in (p.partition("=") for p in pairs))
        return Recipe(fields[1], tuple(args), fields[2], env, fields[3])

    @property
    def command(self) -> list[str]:
        return [self.go, *self.args]

    @property
    def output(self) -> str | None:
        return self.args[self.args.index("-o") + 1] if "-o" in self.args[:-1] else None

    def environment(self) -> dict[str, str]:
        return {**os.environ, **dict(self.env)}


class Started:
    """The recipe's `go build`, running since the entry point, and the slot's lock it holds."""

    def __init__(self, recipe: Recipe, proc: subprocess.Popen[str], lock_fd: int, since: float):
        self.recipe, self.proc, self.lock_fd = recipe, proc, lock_fd
        self.since = since  # time.perf_counter() when it was started: the build's time counts from there

    def matches(self, cmd: list[str], cwd: object, env: dict[str, str], slot: object) -> bool:
        return (cmd == self.recipe.command and str(cwd) == self.recipe.cwd and str(slot) == self.recipe.slot
                and env == self.recipe.environment())

    def kill(self) -> None:
        """The process only: its lock is closed by whoever holds it now (LinkOutputs.locked, or stop())."""
        from .build import kill_tree

        if self.proc.poll() is None:
            kill_tree(self.proc)
        self.proc.communicate()

    def stop(self) -> None:
        self.kill()
        os.close(self.lock_fd)


class Rerun:
    """Where this command line's recipe lives, and its `go build` when one was started."""

    def __init__(self, recipes: str, record: str, started: Started | None = None):
        self.recipes, self.record, self.started = recipes, record, started

    def adopt(self, cmd: list[str], cwd: object, env: dict[str, str], slot: object) -> Started | None:
        """The started build, handed over with its lock when it is exactly this one; else it is stopped (it
        holds the lock of a slot this build may need)."""
        started, self.started = self.started, None
        if started is None:
            return None
        if started.matches(cmd, cwd, env, slot):
            return started
        started.stop()
        return None

    def remember(self, recipe: Recipe) -> None:
        """Written after every successful compile (its mtime is the last use, which LinkOutputs.trim reads);
        a cache that cannot be written costs the next run its head start, nothing else."""
        write_private(self.record, recipe.encode())

    def close(self) -> None:
        """Stop a started build nobody adopted (the plan asked for another, or the build failed first)."""
        started, self.started = self.started, None
        if started is not None:
            started.stop()


def digest(text: str) -> str:
    """sha256 of text, hex. hashlib would load OpenSSL first (~3 ms before `go build` starts); Python 3.12
    renamed the built-in module."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]
        except ImportError:
            from hashlib import sha256
    return str(sha256(text.encode("utf-8", "surrogateescape")).hexdigest())


def recipe_file(recipes: str, cwd: str, argv: list[str]) -> str:
    return os.path.join(recipes, digest("\0".join([RECIPE_VERSION, cwd, *argv]))[:32])


def recipes_dir() -> str | None:
    """The recipes' folder, when recipes may be read from it and written into it: the cache is given as an
    absolute path (see the module's docstring). It need not exist yet."""
    if not os.path.isabs(configured_cache_dir()):
        return None
    return os.path.join(link_dir(), RECIPES)


def write_private(path: str, data: bytes) -> None:
    """Replace path (in the recipes' folder) with data, keeping the folders private; a cache that cannot be
    written is left as it is."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        for each in (os.path.dirname(folder), folder):
            _keep_private(each)
    except OSError:
        return
    replace_quietly(path, data)


def start(argv: list[str]) -> Rerun | None:
    """The recipe of this command line, run in this directory, started when there is one and it may run;
    None when the cache is given as a relative path (no recipe is read or written there)."""
    recipes = recipes_dir()
    if recipes is None:
        return None
    link_root = os.path.dirname(recipes)
    try:
        rerun = Rerun(recipes, recipe_file(recipes, os.getcwd(), argv))
    except OSError:  # the current directory is gone
        return None
    recipe = read(rerun.record, link_root)
    if recipe is None or recipe.go != _go():
        return rerun
    fd = _lock_slot(recipe.slot)
    if fd is None:
        return rerun  # another build holds the slot: this one waits for it the normal way
    proc = None
    try:
        output = recipe.output
        if output is None or os.path.dirname(output) != recipe.slot:
            raise OSError("the recipe's output is not in its slot")
        if os.path.lexists(output) and not whole(output):
            remove(output)  # what compile_binary does before Go reads the build ID of a cut or planted file
        since = time.perf_counter()
        proc = subprocess.Popen(recipe.command, cwd=recipe.cwd, env=recipe.environment(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        rerun.started = Started(recipe, proc, fd, since)
    except (OSError, ValueError, subprocess.SubprocessError):
        os.close(fd)
    except BaseException:  # an interrupt between the start and the hand-over: nothing may outlive this process
        if rerun.started is not None:
            rerun.close()
        else:
            if proc is not None:
                proc.kill()
            os.close(fd)
        raise
    return rerun


# What compile_binary adds to the environment of a build it may leave to a recipe: the platform, and cgo off
# (with cgo on, Go runs the C compiler the environment names).
_ENV = frozenset({"GOOS", "GOARCH", "GOARM", "GOAMD64", "GOARM64", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64",
                  "GORISCV64", "GOWASM"})
_FLAGS = ("-ldflags=", "-gcflags=", "-tags=")


def _shape(recipe: Recipe) -> bool:
    """The arguments and environment compile_binary writes, and nothing else (see the module's docstring)."""
    args = recipe.args
    if len(args) < 5 or args[:2] != ("build", "-v") or args[-3] != "-o" or args[-1] != "." or args.count("-o") != 1:
        return False
    if not all(a == "-trimpath" or a.startswith(_FLAGS) for a in args[2:-3]):
        return False
    return all(k in _ENV or (k, v) == ("CGO_ENABLED", "0") for k, v in recipe.env)


def _go() -> str | None:
    """The go this run will use (gobuild.toolchain.go_path: $SLIMGO_GO, else the first `go` on PATH), found
    without shutil; only an absolute path may be started early."""
    given = os.environ.get("SLIMGO_GO")
    if given:
        return given if os.path.isabs(given) else None
    for folder in (os.environ.get("PATH") or os.defpath).split(os.pathsep):
        candidate = os.path.join(folder, "go")
        if os.path.isabs(candidate) and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _ours(info: os.stat_result) -> bool:
    """Owned by the current user, and nobody else may write it: the one trust check of a recipe's files."""
    return info.st_uid == os.getuid() and not info.st_mode & _OTHERS_WRITE


def _keep_private(folder: str) -> None:
    """Take group and other write off a folder of the user's: under umask 002 (the default for users with a
    group of their own on Debian and Ubuntu) the link outputs' folder is made group-writable, and start()
    would never trust a recipe in it."""
    info = os.lstat(folder)
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not _ours(info):
        os.chmod(folder, stat.S_IMODE(info.st_mode) & ~_OTHERS_WRITE)


def _private(path: str) -> bool:
    """A real directory of the current user's that nobody else may write into."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _ours(info)


def private_file(path: str, limit: int) -> bytes | None:
    """The bytes of a file in the recipes' folder, if that folder and its parent (the link outputs') are the
    user's alone, and the file is a regular one of the user's, nobody else may write and no larger than limit."""
    folder = os.path.dirname(path)
    if not (_private(os.path.dirname(folder)) and _private(folder)):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _ours(info) or info.st_size > limit:
            return None
        return os.read(fd, limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def read(path: str, link_root: str) -> Recipe | None:
    """The recipe at path if it may be trusted (see the module's docstring), else None."""
    data = private_file(path, _MAX_RECIPE)
    recipe = None if data is None else Recipe.decode(data)
    if (recipe is None or os.path.dirname(os.path.normpath(recipe.slot)) != os.path.normpath(link_root)
            or not _shape(recipe)):
        return None
    return recipe


def _lock_slot(slot: str) -> int | None:
    """The slot's lock, taken without waiting, the way LinkOutputs.locked takes it."""
    lock = os.path.join(slot, LOCK_NAME)
    try:
        if not stat.S_ISDIR(os.lstat(slot).st_mode):
            return None
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if still_there(fd, lock):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None
