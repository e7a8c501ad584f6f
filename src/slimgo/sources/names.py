"""File names from tars and argv as valid Unicode: apart from files.py, so that `slimgo analyze BINARY`
does not import the whole image-reading stack to print one path."""

from __future__ import annotations


def display_name(name: str) -> str:
    """A name from a tar (or argv) as valid Unicode: tarfile keeps undecodable bytes as lone surrogates,
    which JSON output would carry as `\\udcXX` (invalid for strict parsers); they become `\\xXX` text."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
