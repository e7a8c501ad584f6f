"""Typed errors. Each knows its exit code, so the CLI edge maps them without guessing.

Exit codes are part of the contract: 0 ok, 1 the checked thing failed, 2 bad input or usage, 3 a remote
(registry) failed: 5xx after retries, timeouts, a connection that never came or stalled.
"""

from __future__ import annotations


class SlimgoError(Exception):
    """Base of every error slimgo raises on purpose; the message is one line for the user."""

    exit_code: int = 2

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = " ".join(message.split()) if "\n" in message else message
        # Multi-line material (a compiler's output) that the CLI prints after the one-line message.
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class BadInput(SlimgoError):
    """The user asked for something that cannot be done as asked (paths, flags, config)."""


class ToolMissing(BadInput):
    """A required external program (go, strip, docker) is not installed."""


class BinaryFormatError(BadInput):
    """A file is not the ELF / Go binary it claims to be, or is damaged."""


class ImageFormatError(BadInput):
    """An image source (layout, archive) is malformed or fails its digests."""


class CompileError(SlimgoError):
    """The Go compiler rejected the program: the checked thing failed, so exit 1."""

    exit_code = 1


class CheckFailed(SlimgoError):
    """A verification (run, probe, lint threshold) failed."""

    exit_code = 1


class RemoteError(SlimgoError):
    """A registry failed (5xx after retries, timeout, too slow, unreachable): not the user's input, so not
    BadInput; retrying later may succeed."""

    exit_code = 3
