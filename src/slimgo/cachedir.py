"""Where slimgo keeps its caches, as a plain string: the entry point needs it before pathlib is imported."""

from __future__ import annotations

import os


def cache_dir() -> str:
    """$SLIMGO_CACHE, else $XDG_CACHE_HOME/slimgo, else ~/.cache/slimgo; made absolute, since `go build` runs
    in the package's directory and writes its output into the cache (as given when the current directory is
    gone: whatever uses it then fails with its own error)."""
    path = configured_cache_dir()
    try:
        return os.path.abspath(path)
    except OSError:
        return path


def configured_cache_dir() -> str:
    env = os.environ.get("SLIMGO_CACHE")
    if env:
        return env
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(xdg, "slimgo") if xdg else os.path.join(os.path.expanduser("~"), ".cache", "slimgo")


def link_dir() -> str:
    """Where Go's link outputs stay between builds (gobuild/outputs.py), and the recipes (gobuild/rerun.py)."""
    return os.path.join(cache_dir(), "link")


def replace_quietly(path: str, data: bytes) -> None:
    """Put data at path (a file of slimgo's cache, whose folder exists) in one rename, so a reader sees the
    old bytes or the new; a cache that cannot be written is left as it is: it only costs the next run time."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
