"""`go list`'s answer for a package directory, remembered while the files it was read from stay the same.

On an unchanged rebuild `go list -find` is the one Go process besides `go build`, and not a small one: on caddy
(vendored) it checks vendor/modules.txt against go.mod, 0.1 s of CPU that `go build` wants on the same two
cores (measured: an unchanged caddy rebuild 0.08 s faster without it). Its answer (package name, import path,
module, go.mod) depends only on what Go reads to find it, so that is what the answer is stored under, as a
fingerprint of stats taken before Go was asked:

- the go binary and its GOROOT's go.env, the whole process environment (a hash: no value is written down),
  and the `go env -w` file;
- the package directory's source files (name, inode, size, mtime, ctime; other files, such as an image
  written beside them, do not count);
- each go.mod from the directory up to the first one, which is the module Go finds, and that module's go.sum
  and vendor/modules.txt;
- each go.work from the directory up to the root, as Go looks for one when GOWORK does not name it.

The answer is kept with the toolchain `go env` named (version, GOROOT, platform): a `go` behind a version
manager's shim can switch toolchains with none of those files changing, and `go env` runs on every build
anyway (EarlyAnswers.check_recalled).

Any difference means Go is asked again; on a file system that keeps times to the second, an answer is not
remembered while a file changed in the last 2 s (an edit in the same second would leave the same stat).
Whatever could point Go at other files is not remembered at all:
a GOFLAGS with -modfile or -overlay, a GOWORK that names a file (in the environment, the `go env -w` file or
$GOROOT/go.env). go.mod and go.work are looked for up from the directory as Go sees it: $PWD when that names
the package's directory (a symlink to it), as Go's os.Getwd does. Answers sit beside the recipes
(gobuild/rerun.py) and are trusted the same way: an absolute cache directory, folders and files of the
user's that nobody else may write. Only os is imported: this runs before `go build` may start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..filestamp import settled, stamp
from .rerun import digest, private_file, recipes_dir, write_private

LISTING_VERSION = "slimgo-list-v2"
PREFIX = "list-"  # of an answer's file name in the recipes' folder (a recipe's name is hex)
_MAX_ANSWER = 64 * 1024
# What Go reads in a package directory to name the package, or to report an error about it.
_SOURCES = (".go", ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".s", ".S", ".sx", ".f", ".F",
            ".for", ".f90", ".m", ".swig", ".swigcxx", ".syso")


class Listing:
    """Where the answer of one `go list` query in one directory is kept, and the fingerprint taken now."""

    __slots__ = ("record", "fingerprint", "settled")

    def __init__(self, record: str, fingerprint: str, settled: bool = True):
        self.record, self.fingerprint = record, fingerprint
        self.settled = settled  # False: a file may still change unseen by its stat (_settled); nothing is saved

    def answer(self) -> tuple[str, str] | None:
        """The remembered answer and the toolchain that gave it (`go env`'s facts: see EarlyAnswers.
        check_recalled), if they were stored under the fingerprint taken now."""
        data = private_file(self.record, _MAX_ANSWER)
        if data is None:
            return None
        head, toolchain, answer = (data.decode("utf-8", "surrogateescape").split("\0\0", 2) + ["", ""])[:3]
        return (toolchain, answer) if head == self.fingerprint and toolchain else None

    def save(self, answer: str, toolchain: str) -> None:
        """After Go answered the query the fingerprint was taken for (a cache that cannot be written costs
        the next run its `go list`, nothing else)."""
        if not self.settled or not toolchain or "\0" in toolchain:
            return
        data = "\0\0".join([self.fingerprint, toolchain, answer])
        write_private(self.record, data.encode("utf-8", "surrogateescape"))


def listing(go: str, args: list[str], directory: str) -> Listing | None:
    """The record and fingerprint of `go ARGS` in directory, or None when its answer may not be remembered."""
    recipes = recipes_dir()
    if recipes is None:
        return None
    environ = os.environ
    goenv = _goenv_file(directory)
    go_env = _go_env_file(go)
    try:
        settings = _read_small(goenv) if goenv else b""
        defaults = _read_small(go_env)
        if settings is None or defaults is None or _points_elsewhere(environ.get("GOFLAGS", ""),
                                                                     environ.get("GOWORK", ""), settings, defaults):
            return None
        parts = [LISTING_VERSION, go, *args, directory, _stat(go), _stat(go_env),
                 digest("\0".join(f"{k}={v}" for k, v in sorted(environ.items()))), digest(settings.decode("latin-1"))]
        parts += _sources(directory)
        here = _working_directory(directory)
        parts.append(here)
        root = _module_root(here, parts)
        if root is not None:
            parts += [_stat(os.path.join(root, name)) for name in ("go.sum", os.path.join("vendor", "modules.txt"))]
        if environ.get("GOWORK", "") != "off":
            parts += _workspaces(here)
    except OSError:
        return None
    key = digest("\0".join([LISTING_VERSION, go, *args, directory]))
    return Listing(os.path.join(recipes, PREFIX + key[:32]), digest("\0".join(parts)), _settled(parts))


def _settled(parts: list[str]) -> bool:
    """Every file among parts is settled (filestamp.settled): on a file system that keeps times to the second,
    an edit later in the same second, of the same size, would leave the same stat and the answer outlive it."""
    now = _now_ns()
    for part in parts:
        fields = part.rpartition("=")[2].split(":")
        if len(fields) == 6 and fields[4].isdecimal() and not settled(":".join(fields), now):
            return False
    return True


def _now_ns() -> int:
    import time

    return time.time_ns()


def _points_elsewhere(goflags: str, gowork: str, settings: bytes, defaults: bytes) -> bool:
    """A go.mod or go.work chosen by a setting rather than found from the directory, or files replaced by an
    -overlay: not fingerprinted. Go reads GOFLAGS and GOWORK from the environment, the `go env -w` file and
    $GOROOT/go.env; a setting in any of them counts."""
    settings_lines = (settings + b"\n" + defaults).decode("utf-8", "replace").splitlines()
    pairs = [(name.strip(), value) for name, _, value in (line.partition("=") for line in settings_lines)]
    for name, value in [("GOFLAGS", goflags), ("GOWORK", gowork), *pairs]:  # every line: whichever Go would take
        if (name == "GOFLAGS" and ("-modfile" in value or "-overlay" in value)) or (
                name == "GOWORK" and value.strip() not in ("", "off")):
            return True
    return False


def _working_directory(directory: str) -> str:
    """The directory Go starts from in looking for go.mod and go.work: its os.Getwd takes $PWD when that
    names the same directory (standing in a symlink to the package, the link's path), else the real path."""
    pwd = os.environ.get("PWD", "")
    if pwd.startswith("/") and pwd != directory:
        try:
            if os.path.samefile(pwd, directory):
                return os.path.normpath(pwd)
        except OSError:
            pass
    return directory


def _stat(path: str) -> str:
    return stamp(path) or "-"


def _sources(directory: str) -> list[str]:
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(_SOURCES):
                found.append(f"{entry.name}={_stat(entry.path)}")
    return sorted(found)


def _module_root(directory: str, parts: list[str]) -> str | None:
    """The directory of the first go.mod file from directory up, as Go looks for it (a folder of that name is
    passed over); each step's stat is noted."""
    for here in _upward(directory):
        path = os.path.join(here, "go.mod")
        mod = _stat(path)
        parts.append(mod)
        if mod != "-" and not os.path.isdir(path):
            return here
    return None


def _workspaces(directory: str) -> list[str]:
    return [_stat(os.path.join(here, "go.work")) for here in _upward(directory)]


def _upward(directory: str) -> Iterator[str]:
    """directory, then each of its parents up to the root, as Go walks up looking for go.mod and go.work."""
    here = directory
    while True:
        yield here
        parent = os.path.dirname(here)
        if parent == here:
            return
        here = parent


def _goenv_file(directory: str) -> str | None:
    """Where `go env -w` writes (GOENV, else os.UserConfigDir()/go/env); None when it is turned off. Go opens
    a relative GOENV in its working directory: the package's."""
    given = os.environ.get("GOENV")
    if given:
        return None if given == "off" else os.path.join(directory, given)
    config = os.environ.get("XDG_CONFIG_HOME") or ""
    if not os.path.isabs(config):
        home = os.environ.get("HOME")
        if not home:
            return None
        config = os.path.join(home, ".config")
    return os.path.join(config, "go", "env")


def _go_env_file(go: str) -> str:
    """$GOROOT/go.env, the toolchain's own defaults (GOROOT from the environment, else beside the binary)."""
    root = os.environ.get("GOROOT") or os.path.dirname(os.path.dirname(os.path.realpath(go)))
    return os.path.join(root, "go.env")


def _read_small(path: str) -> bytes | None:
    """The `go env -w` file's bytes (empty when there is none); None when it is too large to be one."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_ANSWER + 1)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    return None if len(data) > _MAX_ANSWER else data
