"""slimgo analyze on real binaries: the toolchain's own, a real program from the proxy, and builds of the
example with cgo on/off, -s -w, -trimpath, PIE, arm64 and 386. Oracles: `go version -m -json`,
`go tool nm -size` (with .bss ranges taken from pyelftools), and the file size."""

from __future__ import annotations

import collections
import json
import os
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from slimgo.binary import elf, symsizes, symtab
from slimgo.binary.analysis import analyze_file
from slimgo.binary.elf import MappedFile
from slimgo.binary.needs import detect
from slimgo.binary.pclntab import package_of
from tests.support.cli import slimgo
from tests.support.parts import HELLO, unique_tag

pytestmark = pytest.mark.integration

VARIANTS = {
    "cgo": ({"CGO_ENABLED": "1"}, []),
    "nocgo": ({"CGO_ENABLED": "0"}, []),
    "sw": ({"CGO_ENABLED": "0"}, ["-ldflags=-s -w"]),
    "trimpath": ({"CGO_ENABLED": "0"}, ["-trimpath"]),
    "pie": ({"CGO_ENABLED": "0"}, ["-buildmode=pie"]),
    "arm64": ({"CGO_ENABLED": "0", "GOARCH": "arm64"}, []),
    "386": ({"CGO_ENABLED": "0", "GOARCH": "386"}, []),
    "arm": ({"CGO_ENABLED": "0", "GOARCH": "arm", "GOARM": "7"}, []),
    "tzdata": ({"CGO_ENABLED": "0"}, ["-tags=timetzdata"]),
    # gcc links: its string table shares tails of names, which the column reader resolves one by one
    "external": ({"CGO_ENABLED": "1"}, ["-ldflags=-linkmode=external"]),
}


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bins")
    found: dict[str, Path] = {}
    for name, (env, flags) in VARIANTS.items():
        dest = out / name
        subprocess.run([go_bin, "build", *flags, "-o", str(dest), "."], cwd=HELLO, check=True,
                       env={**os.environ, **env})
        found[name] = dest
    goroot = Path(subprocess.run([go_bin, "env", "GOROOT"], capture_output=True, text=True).stdout.strip())
    tooldir = Path(subprocess.run([go_bin, "env", "GOTOOLDIR"], capture_output=True, text=True).stdout.strip())
    found["go"] = goroot / "bin" / "go"
    found["compile"] = tooldir / "compile"
    gobin = out / "gobin"
    subprocess.run([go_bin, "install", "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0"], check=True,
                   env={**os.environ, "GOBIN": str(gobin)}, capture_output=True)
    found["httpbin"] = gobin / "go-httpbin"
    return found


ALL = [*VARIANTS, "go", "compile", "httpbin"]


@pytest.mark.parametrize("name", ALL)
def test_build_info_equals_go_version_m(binaries: dict[str, Path], name: str) -> None:
    path = binaries[name]
    oracle = json.loads(subprocess.run(["go", "version", "-m", "-json", str(path)], capture_output=True, text=True,
                                       check=True).stdout)
    doc = analyze_file(path).to_json()
    assert doc["go_version"] == oracle["GoVersion"]
    assert doc["main_package"] == oracle["Path"]
    main = oracle.get("Main")
    if main and main.get("Path"):
        assert doc["main_module"]["path"] == main["Path"]
        assert doc["main_module"]["version"] == main.get("Version", "")
        assert doc["main_module"]["sum"] == main.get("Sum", "")
    else:
        assert doc["main_module"] is None  # the toolchain's own commands record none
    assert doc["build_settings"] == {s["Key"]: s.get("Value", "") for s in oracle.get("Settings", [])}
    want_deps = [(d["Path"], d.get("Version", ""), d.get("Sum", ""),
                  (d["Replace"]["Path"], d["Replace"].get("Version", "")) if d.get("Replace") else None)
                 for d in oracle.get("Deps") or []]
    got_deps = [(d["path"], d["version"], d["sum"],
                 (d["replace"]["path"], d["replace"]["version"]) if d.get("replace") else None)
                for d in doc["dependencies"]]
    assert got_deps == want_deps


@pytest.mark.parametrize("name", ALL)
def test_sections_add_up_to_the_file_size(binaries: dict[str, Path], name: str) -> None:
    a = analyze_file(binaries[name])
    assert sum(a.groups.values()) == a.file_bytes == binaries[name].stat().st_size
    assert a.sections_exact and not a.partial


def _nm_packages(path: Path) -> tuple[dict[str, int], int]:
    """Per-package bytes and .bss bytes, from `go tool nm -size` (.bss ranges from pyelftools)."""
    with open(path, "rb") as fh:
        nobits = [(s["sh_addr"], s["sh_addr"] + s["sh_size"]) for s in ELFFile(fh).iter_sections()
                  if s["sh_type"] == "SHT_NOBITS"]
    out = subprocess.run(["go", "tool", "nm", "-size", str(path)], capture_output=True, text=True, check=True).stdout
    totals: collections.Counter[str] = collections.Counter()
    bss = 0
    for line in out.splitlines():
        parts = line.split(None, 3)  # names of generic instantiations contain spaces
        if len(parts) < 4 or parts[2] not in "TtRrDdBb":
            continue
        addr, size = int(parts[0], 16), int(parts[1])
        if parts[2] in "Bb" or any(lo <= addr < hi for lo, hi in nobits):  # go tool nm labels .bss symbols D
            bss += size
        elif size:
            totals[package_of(parts[3]) or "(other)"] += size
    return dict(totals), bss


@pytest.mark.parametrize("name", ["cgo", "nocgo", "trimpath", "pie", "arm64", "386", "arm", "compile", "httpbin"])
def test_package_sizes_equal_go_tool_nm(binaries: dict[str, Path], name: str) -> None:
    """Exactly, byte for byte: analyze reads sizes by columns and runs of names, nm one symbol at a time."""
    a = analyze_file(binaries[name])
    assert a.size_source == "symtab"
    want, bss = _nm_packages(binaries[name])
    assert {p.name: p.bytes for p in a.packages} == want
    assert a.bss_bytes == bss
    assert [p.bytes for p in a.packages] == sorted((p.bytes for p in a.packages), reverse=True)


@pytest.mark.parametrize("name", ["external", "cgo", "386", "compile", "httpbin"])
def test_column_reader_equals_the_per_symbol_reader(binaries: dict[str, Path], name: str) -> None:
    """The column reader (analyze's) against the per-symbol definition it replaced, on real tables: Go's
    linker (names in symbol order) and gcc's (shared tails, shared names, other order)."""
    with MappedFile(binaries[name]) as mf:
        e = elf.parse(mf.view)
        got = symsizes.sizes(e)
        syms = symtab.read(e)
        assert got is not None and syms
        want = symtab.from_symbols(syms)
        assert (got.packages, got.bss_bytes, got.symbols) == (want.packages, want.bss_bytes, want.symbols)
        packages = set(want.packages)
        assert detect(got.functions, packages, e.is_dynamic) == detect(want.functions, packages, e.is_dynamic)
        if name == "external":
            assert got.functions.extra, "gcc shares name tails: some function names start inside others"  # type: ignore[attr-defined]


def test_stripped_binary_falls_back_to_the_function_table(binaries: dict[str, Path]) -> None:
    a = analyze_file(binaries["sw"])
    assert a.stripped_symbols and a.stripped_dwarf
    assert a.size_source.startswith("pclntab")
    code = sum(p.bytes for p in a.packages)
    text = next(s.bytes for s in a.sections if s.name == ".text")
    assert abs(code - text) <= 0.02 * text  # function ranges tile .text
    full = {p.name: p.bytes for p in analyze_file(binaries["nocgo"]).packages}
    # the biggest package is the same either way
    assert a.packages[0].name == max(full, key=lambda k: full[k] if not k.endswith(":*") else 0) or \
        a.packages[0].name == "runtime"


def test_linking_and_platforms(binaries: dict[str, Path]) -> None:
    cgo = analyze_file(binaries["cgo"])
    assert cgo.link == "dynamic" and cgo.interpreter and "ld-linux" in cgo.interpreter
    assert "libc.so.6" in cgo.needed and cgo.needs and cgo.needs.cgo
    assert any("CGO_ENABLED=0" in r.title for r in cgo.recommendations)
    nocgo = analyze_file(binaries["nocgo"])
    assert nocgo.link == "static" and nocgo.interpreter is None and not nocgo.pie
    assert analyze_file(binaries["pie"]).pie
    assert analyze_file(binaries["arm64"]).machine == "arm64"
    assert analyze_file(binaries["386"]).machine == "386"
    arm = analyze_file(binaries["arm"])
    assert arm.machine == "arm" and arm.info is not None and arm.info.settings["GOARM"] == "7"
    sw = next(r for r in nocgo.recommendations if r.title.startswith('-ldflags "-s -w"'))
    stripped = analyze_file(binaries["sw"]).file_bytes
    # the saving is computed from sections; the real -s -w build is within 2% of that prediction
    assert abs((nocgo.file_bytes - sw.saves_bytes) - stripped) <= 0.02 * stripped
    assert any(r.title.startswith("-trimpath") for r in nocgo.recommendations)
    assert not any(r.title.startswith("-trimpath") for r in analyze_file(binaries["trimpath"]).recommendations)


@pytest.mark.parametrize("name", ALL)
def test_needs_from_the_name_table_equal_needs_from_every_decoded_name(binaries: dict[str, Path], name: str) -> None:
    """needs.of_elf searches the function name table's bytes (NameTable); decoding every kept function's
    name gives the same answers on each layout here (cgo, PIE, 32-bit, arm64, a third-party program)."""
    from slimgo.binary import pclntab
    from slimgo.binary.needs import NameSet, of_elf

    with MappedFile(binaries[name]) as mf:
        e = elf.parse(mf.view)
        table = pclntab.read(e)
        assert table is not None and not table.partial
        data = pclntab.find(e)
        assert data is not None and pclntab.function_names(data) is not None  # the fast path is the one taken
        names = {f.name for f in table.funcs}
        assert of_elf(e) == detect(NameSet(names), {package_of(n) for n in names}, e.is_dynamic)


def test_run_time_needs(binaries: dict[str, Path]) -> None:
    needs = analyze_file(binaries["nocgo"]).needs
    assert needs and needs.ca_roots and needs.zoneinfo and needs.user_db and needs.dns and not needs.cgo
    tz = analyze_file(binaries["tzdata"]).needs
    assert tz and tz.tzdata_embedded and not tz.zoneinfo and tz.loads_zones
    compile_needs = analyze_file(binaries["compile"]).needs
    assert compile_needs and not compile_needs.ca_roots and not compile_needs.dns


def test_cli_json_and_errors(binaries: dict[str, Path], tmp_path: Path) -> None:
    run = slimgo("analyze", binaries["nocgo"], "--json")
    assert run.code == 0, run.err
    doc = run.json()
    for key in ("schema_version", "go_version", "main_package", "main_module", "link", "interpreter", "sections",
                "packages", "build_settings", "needs", "recommendations"):
        assert key in doc
    assert set(doc["needs"]) >= {"ca_roots", "zoneinfo", "tzdata_embedded", "user_db", "dns", "cgo"}
    assert all({"title", "saves_bytes"} <= set(r) for r in doc["recommendations"])
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    bad = slimgo("analyze", text)
    assert bad.code == 2 and bad.err.count("slimgo: error:") == 1 and "Traceback" not in bad.err
    ls = slimgo("analyze", "/bin/ls", "--json")
    assert ls.code == 0 and ls.json()["go_binary"] is False
    diff = slimgo("analyze", "--diff", binaries["sw"], binaries["nocgo"], "--json")
    assert diff.code == 0
    d = diff.json()
    assert d["file_bytes"]["delta"] == binaries["nocgo"].stat().st_size - binaries["sw"].stat().st_size
    assert any(s["name"] == "DWARF" and s["delta"] > 0 for s in d["sections"])


def test_analyze_images_from_layout_and_docker_save(tmp_path: Path, go_bin: str, docker: str) -> None:
    tag = unique_tag("analyze")  # removed from the engine at the end of the session
    run = slimgo("build", HELLO, "--tag", tag, "--oci-layout", tmp_path / "l", "--tarball", tmp_path / "i.tar",
                 "--no-reference")
    assert run.code == 0, run.err
    layout_tag = tag.rsplit(":", 1)[1]
    for ref in (f"oci:{tmp_path / 'l'}", f"oci:{tmp_path / 'l'}:{layout_tag}", f"docker-archive:{tmp_path / 'i.tar'}"):
        res = slimgo("analyze", ref, "--json")
        assert res.code == 0, res.err
        bins = res.json()["binaries"]
        assert [(b["image_path"], b["platform"]) for b in bins] == [("/app/hello", "linux/amd64")]
        assert bins[0]["build_settings"]["-trimpath"] == "true"
    subprocess.run([docker, "load", "-i", str(tmp_path / "i.tar")], check=True, capture_output=True)
    subprocess.run([docker, "save", "-o", str(tmp_path / "saved.tar"), tag], check=True)
    res = slimgo("analyze", f"docker-archive:{tmp_path / 'saved.tar'}", "--json")
    assert res.code == 0, res.err
    assert [b["image_path"] for b in res.json()["binaries"]] == ["/app/hello"]
