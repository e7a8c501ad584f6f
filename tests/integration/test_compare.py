"""slimgo compare on the example and on a real program from the module proxy, in the real Docker engine.
The assertions encode known facts (e.g. `-s -w` keeps panic file:line) as measured outcomes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, HTTPBIN, require
from tests.support.registry import free_port

pytestmark = pytest.mark.integration


def _by_name(doc: dict) -> dict[str, dict]:
    return {v["name"]: v for v in doc["variants"]}


@pytest.fixture(scope="module")
def hello_compare(tmp_path_factory: pytest.TempPathFactory, docker: str, go_bin: str) -> dict:
    out = tmp_path_factory.mktemp("compare-hello")
    port = free_port()  # never a fixed port: another test's server may hold it while this one measures
    run = slimgo("compare", HELLO, "--port", str(port), "--run-args", f"-addr :{port}", "--json",
                 "--html", out / "report.html", "--markdown",
                 out / "report.md", timeout=900)
    assert run.code == 0, run.err
    return {"doc": run.json(), "dir": out, "err": run.err}


def test_ladder_names_and_fields(hello_compare: dict) -> None:
    doc = hello_compare["doc"]
    assert doc["schema_version"] == 1 and doc["engine"] == "docker"
    names = [v["name"] for v in doc["variants"]]
    assert names == ["baseline", "default", "cgo-off", "trimpath", "ldflags-sw", "strip", "scratch", "zstd", "upx"]
    for v in doc["variants"]:
        for key in ("binary_bytes", "image_bytes", "pull_bytes", "reduction_pct", "startup_ms", "rss_bytes", "checks"):
            assert key in v



def test_facts_hold_as_measured(hello_compare: dict) -> None:
    v = _by_name(hello_compare["doc"])
    # -s -w and strip keep file:line in panics (.gopclntab is runtime data)
    assert v["ldflags-sw"]["checks"]["panic_file_line"] is True
    assert v["strip"]["checks"]["panic_file_line"] is True
    # scratch has no CA bundle or zoneinfo: a program that needs them fails there
    assert v["scratch"]["checks"]["ca_roots"] is False and v["scratch"]["checks"]["tz"] is False
    # a cgo build gets the build host's C runtime (loader and libraries), so it starts, as on a distro image
    for name in ("baseline", "default"):
        assert v[name]["dynamic"] and v[name]["checks"]["starts"] is True, v[name]["check_reasons"]
        assert v[name]["missing_runtime_files"] == []
        assert any(n.startswith("C runtime from the build host") and "libc.so.6" in n for n in v[name]["notes"])
    # zstd layers pull smaller than gzip, with the same content
    assert v["zstd"]["pull_bytes"] < v["ldflags-sw"]["pull_bytes"]
    assert v["zstd"]["image_bytes"] == v["ldflags-sw"]["image_bytes"]
    # -s -w shrinks the binary
    assert v["ldflags-sw"]["binary_bytes"] < v["trimpath"]["binary_bytes"] < v["default"]["binary_bytes"] + 1
    for name in ("cgo-off", "ldflags-sw", "strip", "zstd"):
        assert v[name]["checks"]["starts"] is True
        assert v[name]["startup_ms"] is not None and v[name]["startup_ms"] > 0
        assert 1_000_000 < v[name]["rss_bytes"] < 100_000_000  # the program's own peak, not the parent's
        lo, hi = v[name]["startup_ms_range"]
        assert lo <= v[name]["startup_ms"] <= hi and v[name]["measured_runs"] == 5
        rlo, rhi = v[name]["rss_bytes_range"]
        assert rlo <= v[name]["rss_bytes"] <= rhi


def test_statements_come_from_this_run(hello_compare: dict) -> None:  # issue 11, point 19
    doc = hello_compare["doc"]
    v = _by_name(doc)
    zstd = v["zstd"]
    assert "starts" not in zstd["carried_over"]
    if doc["engine_version"].split(".")[0].isdigit() and int(doc["engine_version"].split(".")[0]) < 23:
        # Docker 20.10 cannot decompress zstd: starts comes from this variant's own run in the sandbox
        assert zstd["check_reasons"]["starts"].startswith("measured in the sandbox")
        assert zstd["carried_over"] and all(zstd["check_reasons"][c].startswith("carried over from")
                                            for c in zstd["carried_over"])
    compat = " ".join(doc["verdict"]["compatibility"])
    assert "works on 20.10" not in compat
    if doc["verdict"]["best"] == "zstd":
        assert doc["engine_version"] in compat


def test_upx_rung_is_packed_verified_and_its_cost_measured(hello_compare: dict, upx: str) -> None:
    v = _by_name(hello_compare["doc"])
    u = v["upx"]
    assert not u["skipped"], u["reason"]
    # the image starts in the engine, and the probe, packed the same way, still finds what it needs
    assert u["checks"]["starts"] is True and u["checks"]["panic_file_line"] is True and u["checks"]["tz"] is True
    assert u["binary_bytes"] < v["ldflags-sw"]["binary_bytes"] * 0.5
    assert u["pull_bytes"] < v["ldflags-sw"]["pull_bytes"]
    cost = u["upx"]
    assert cost["args"] == ["--best", "--lzma"] and cost["verified"]["starts"] is True
    assert cost["startup_ms_added"] > 0 and cost["private_bytes_added"] > 0
    # the same base as the unpacked rung: its parts are read from the binary before packing (tar blocking aside:
    # a layer tar is padded to a 10 KiB record)
    base_upx = u["image_bytes"] - u["binary_bytes"]
    assert abs(base_upx - (v["ldflags-sw"]["image_bytes"] - v["ldflags-sw"]["binary_bytes"])) < 10240 + 512
    verdict = hello_compare["doc"]["verdict"]
    assert verdict["prefer"] == "balanced" and "10% + 5 ms" in verdict["bound"]
    # UPX's paired cost (tens of ms of decompression CPU, the whole program as private memory) is outside the
    # bound whatever the machine's load does to the wall times
    assert verdict["best"] != "upx" and "ms CPU to start" in verdict["excluded_by_bound"]["upx"]


def test_verdict_and_reduction(hello_compare: dict) -> None:
    doc = hello_compare["doc"]
    verdict = doc["verdict"]
    v = _by_name(doc)
    assert verdict["best"] in ("zstd", "ldflags-sw", "strip")
    best = v[verdict["best"]]
    assert best["passes"]
    assert v["baseline"]["checks"]["starts"] is True  # the reference of the percentages runs
    assert best["reduction_pct"] >= 85.0  # at least 85% smaller than baseline
    assert verdict["best_every_engine"] != "zstd"
    assert verdict["command"].startswith("slimgo build")
    assert "CGO_ENABLED=0" in verdict["dockerfile"]
    # --prefer balanced: the smallest pull among the passing variants the start-up/RSS bound did not exclude
    eligible = [x for x in doc["variants"] if x["passes"] and x["name"] not in verdict["excluded_by_bound"]]
    assert verdict["pull_bytes"] == min(x["pull_bytes"] for x in eligible)


def test_markdown_report(hello_compare: dict) -> None:
    text = (hello_compare["dir"] / "report.md").read_text()
    assert "## Verdict" in text and "| ldflags-sw |" in text


def test_html_report_renders_in_chromium(hello_compare: dict, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    require(chromium is not None, "Debian's chromium is not installed (apt-get install chromium)")
    report = hello_compare["dir"] / "report.html"
    html = report.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "report.png"
    proc = subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1200,2200",
                           report.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == []
    dom = subprocess.run([chromium, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    built = [v["name"] for v in hello_compare["doc"]["variants"] if not v["skipped"]]
    for metric in ("image_bytes", "pull_bytes", "startup_ms", "rss_bytes"):
        chart = re.search(rf'<svg class="chart" data-metric="{metric}".*?</svg>', dom, re.S)
        assert chart, metric
        for name in built:
            assert f'data-variant="{name}"' in chart.group(0), (metric, name)
    for name in built:
        assert f'<tr data-variant="{name}">' in dom


@pytest.mark.network
def test_compare_a_real_program(tmp_path: Path, docker: str, go_bin: str) -> None:
    port = free_port()
    run = slimgo("compare", HTTPBIN, "--port", str(port), "--run-args", f"-port {port}", "--json", timeout=900)  # the full ladder
    assert run.code == 0, run.err
    doc = run.json()
    v = _by_name(doc)
    best = v[doc["verdict"]["best"]]
    assert best["reduction_pct"] >= 85.0
    assert v["ldflags-sw"]["checks"]["starts"] is True and v["ldflags-sw"]["checks"]["panic_file_line"] is True
    assert v["zstd"]["pull_bytes"] < v["ldflags-sw"]["pull_bytes"]
    # a need the program does not have is not applicable, never "passed"
    needs = doc["needs"]
    for check, need in (("ca_roots", "ca_roots"), ("tz", "loads_zones"), ("user_db", "user_db")):
        if not needs[need]:
            assert v["ldflags-sw"]["checks"][check] is None


def test_bad_input(tmp_path: Path) -> None:
    run = slimgo("compare", HELLO, "--strategies", "nope")
    assert run.code == 2 and "unknown strategy 'nope'" in run.err and "Traceback" not in run.err
    run = slimgo("compare", tmp_path)
    assert run.code == 2
    run = slimgo("compare", HELLO, "--runs", "0")
    assert run.code == 2


def test_without_an_engine_checks_run_on_the_host(go_bin: str) -> None:
    port = free_port()
    run = slimgo("compare", HELLO, "--port", str(port), "--run-args", f"-addr :{port}",
                 "--strategies", "ldflags-sw,scratch,default", "--no-engine",
                 "--json", timeout=600)
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["engine"] == "host (chroot)"
    v = _by_name(doc)
    assert v["ldflags-sw"]["checks"]["starts"] is True and v["ldflags-sw"]["checks"]["tz"] is True
    assert v["ldflags-sw"]["checks"]["dns"] is None  # not checkable without the engine's /etc/hosts
    assert v["scratch"]["checks"]["ca_roots"] is False
    assert v["default"]["checks"]["starts"] is True and v["default"]["dynamic"]  # with the host's C runtime
    assert v["ldflags-sw"]["pull_bytes"] > 0 and v["ldflags-sw"]["startup_ms"] > 0
