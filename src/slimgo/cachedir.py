"""Where slimgo keeps its caches, as a plain string: the entry point needs it before pathlib is imported."""

from __future__ import annotations

import os


def cache_dir() -> str:
    """$SLIMGO_CACHE, else $XDG_CACHE_HOME/slimgo, else ~/.cache/slimgo; absolute, since `go build` runs in the
    package's directory and writes its output into the cache."""
    env = os.environ.get("SLIMGO_CACHE")
    if env:
        return os.path.abspath(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.abspath(os.path.join(xdg, "slimgo") if xdg else os.path.join(os.path.expanduser("~"), ".cache", "slimgo"))


def link_dir() -> str:
    """Where Go's link outputs stay between builds (gobuild/outputs.py), and the recipes (gobuild/rerun.py)."""
    return os.path.join(cache_dir(), "link")
