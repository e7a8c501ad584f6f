"""Issue 11, the `compare` points checked in process: bad input refused before any build, reductions never
against a baseline that does not start, starts never carried over, and the report wording."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from slimgo.cli import main
from slimgo.compare.core import VariantResult, _carry_over, _reductions
from slimgo.compare.measure import Measurement
from slimgo.compare.variants import ladder
from slimgo.platform import Platform
from slimgo.report.compare_view import markdown, render


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args,needle", [
    (["--ready", "("], "--ready '(': not a valid regular expression"),
    (["--runs", "0"], "--runs"),
    (["--port", "70000"], "--port 70000: not a TCP port"),
])
def test_bad_input_is_refused_before_building(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              args: list[str], needle: str) -> None:  # point 8
    # the target does not even exist: the check must come before resolving or compiling anything
    code, out, err = run(capsys, "compare", tmp_path / "nothing-here", *args)
    assert code == 2 and out == ""
    assert needle in err and "internal error" not in err


def _variant(name: str, image_bytes: int, starts: bool | None, diff_ids: tuple[str, ...] = ("a",),
             loaded: bool = True, error: str = "") -> VariantResult:
    spec = next(s for s in ladder() if s.name == name)
    image = SimpleNamespace(uncompressed_size=image_bytes, compressed_size=image_bytes // 3,
                            config={"rootfs": {"diff_ids": list(diff_ids)}})
    built = SimpleNamespace(spec=spec, image=image, probe=image, skipped=False, reason="", binary_bytes=1,
                            dynamic=False, missing=[], notes=[], platform=Platform.parse("linux/amd64"), upx=None)
    r = VariantResult(built)  # type: ignore[arg-type]
    r.measurement = Measurement(10.0, 5 << 20, True, runs=5)
    r.engine_loaded, r.engine_error = loaded, error
    if starts is not None:
        r.checks = {"starts": starts, "ca_roots": True, "tz": True, "dns": True, "user_db": True,
                    "panic_file_line": True, "no_shell": True, "nonroot": True}
    return r


def test_no_percentage_against_a_baseline_that_does_not_start() -> None:  # point 3
    results = [_variant("baseline", 100 << 20, starts=False), _variant("ldflags-sw", 5 << 20, starts=True)]
    results[0].reasons["starts"] = "exec failed: no such file or directory"
    notes: list[str] = []
    _reductions(results, notes)
    assert [r.reduction_pct for r in results] == [None, None]
    assert notes and notes[0].startswith("baseline does not start (exec failed")
    results[0].checks["starts"] = True
    _reductions(results, [])
    assert results[1].reduction_pct == 95.0


def test_starts_is_never_carried_over_and_carried_checks_are_marked(capsys: pytest.CaptureFixture[str]) -> None:
    twin = _variant("ldflags-sw", 5 << 20, starts=True)  # point 19
    zstd = _variant("zstd", 5 << 20, starts=None, loaded=False, error="docker load failed: invalid tar header")
    zstd.measurement = Measurement(None, None, False, "exited with status 2; its output ended with: boom")
    _carry_over([twin, zstd])
    assert zstd.checks["starts"] is False and "boom" in zstd.reasons["starts"]
    assert "starts" not in zstd.carried_over and "ca_roots" in zstd.carried_over
    assert zstd.reasons["ca_roots"].startswith("carried over from ldflags-sw")
    doc: dict[str, Any] = {"target": "x", "engine": "docker", "notes": [],
                           "variants": [v.to_json("x") for v in (twin, zstd)],
                           "verdict": {"best": None, "reason": "none"}}
    json.dumps(doc)
    md = markdown(doc)
    assert "| ✓* |" in md and "carried over from a variant with identical files" in md
    from rich.console import Console

    render(doc, Console(width=200, force_terminal=False))
    out = capsys.readouterr().out
    assert "does not start" in out and "ca = ca_roots" in out
    assert "MiB" in out and "5.0M " not in out  # IEC units in the table
