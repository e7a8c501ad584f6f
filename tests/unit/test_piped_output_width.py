"""Results piped to a file or a CI log are not cut to rich's assumed 80 columns."""

import io

from slimgo.commands.edge import PIPED_WIDTH, piped_width


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_only_a_pipe_without_columns_gets_the_wide_width() -> None:
    assert piped_width(io.StringIO(), {}) == PIPED_WIDTH
    assert piped_width(io.StringIO(), {"COLUMNS": "80"}) is None  # the user's choice
    assert piped_width(_Tty(), {}) is None  # a terminal: rich measures it


def test_the_results_console_of_a_piped_run_is_wide(capsys, monkeypatch) -> None:
    """`slimgo inspect IMAGE | less` cut the layer table's sizes into `217…` at 80 columns."""
    from slimgo.commands.edge import Ui

    monkeypatch.delenv("COLUMNS", raising=False)
    assert Ui().out.width == PIPED_WIDTH
    monkeypatch.setenv("COLUMNS", "100")
    assert Ui().out.width == 100
