"""--password-stdin reads one bounded line."""

import pytest

from slimgo.errors import BadInput


def test_password_stdin_is_bounded() -> None:
    """`--password-stdin < /dev/zero` has no newline to stop at."""
    import io

    from slimgo.commands.edge import MAX_STDIN_SECRET, read_stdin_secret

    assert read_stdin_secret(io.StringIO("s3cret\nrest")) == "s3cret"
    with pytest.raises(BadInput, match="--password-stdin: more than 64 KiB before the first newline"):
        read_stdin_secret(io.StringIO("\0" * (MAX_STDIN_SECRET + 10)))
    with open("/dev/zero", encoding="latin-1") as zeros, pytest.raises(BadInput):
        read_stdin_secret(zeros)
