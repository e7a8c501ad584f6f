"""Bad input, options and variants of slimgo build, each against a real Go build."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, docker_run, unique_tag
from tests.support.schemas import validate

pytestmark = pytest.mark.integration


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("slimgo: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _module(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/t\n\ngo 1.22\n")
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    return root


def test_not_a_go_module(tmp_path: Path, go_bin: str) -> None:
    run = slimgo("build", tmp_path, "--tarball", tmp_path / "x.tar")
    assert run.code == 2
    assert "not inside a Go module" in _one_error_line(run.err)
    assert not (tmp_path / "x.tar").exists()


def test_missing_directory(tmp_path: Path) -> None:
    run = slimgo("build", tmp_path / "nope")
    assert run.code == 2 and "no such directory" in _one_error_line(run.err)


def test_no_main_package(tmp_path: Path, go_bin: str) -> None:
    mod = _module(tmp_path / "m", {"lib.go": "package lib\n\nfunc X() int { return 1 }\n"})
    run = slimgo("build", mod, "--tarball", tmp_path / "x.tar")
    assert run.code == 2
    assert "not a main package" in _one_error_line(run.err)
    assert not list(tmp_path.glob("*.tar*"))


def test_patterns_and_several_targets_name_what_is_wrong(tmp_path: Path, go_bin: str) -> None:
    """`go list -e` answers a bad pattern with one row carrying the error; it must not read as
    "no main package" when the folder is missing or holds a program outside any module."""
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "main.go").write_text("package main\n\nfunc main() {}\n")
    mod = _module(tmp_path / "m", {"cmd/a/main.go": "package main\n\nfunc main() {}\n"})
    (tmp_path / "ws").mkdir()  # a workspace's root is in no module: go says why
    (tmp_path / "ws" / "go.work").write_text(f"go 1.22\n\nuse {mod}\n")
    run = slimgo("build", "./...", "--oci-layout", tmp_path / "out", cwd=tmp_path / "ws")
    assert run.code == 2 and "go.work" in _one_error_line(run.err) and "go.mod found" not in run.err, run.err
    for args, cwd, needle in [
        ((f"{loose}/...",), mod, f"{loose}/...: not inside a Go module (no go.mod found)"),
        (("./...",), loose, "./...: not inside a Go module (no go.mod found)"),
        ((loose, "./cmd/a"), mod, f"{loose}: not inside a Go module (no go.mod found)"),
        (("./nothing/...",), mod, "./nothing/...: no such directory"),
        (("./nothing", "./cmd/a"), mod, "./nothing: no such directory"),
        (("example.com/t/cmd/a", "example.com/t/cmd/b"), loose, "example.com/t/cmd/a: no such package (the working "
         "directory is in no Go module; run slimgo from the module that holds it)"),
        (("./cmd/a", "example.com/other/cmd/x"), mod, "example.com/other/cmd/x: no such package (not in this module "
         "or its requirements; run slimgo from the module that holds it)"),
    ]:
        run = slimgo("build", *args, "--oci-layout", tmp_path / "out", "--json", cwd=cwd)
        assert run.code == 2, run.err
        assert _one_error_line(run.err) == f"slimgo: error: {needle}"
        assert run.json()["error"] == {"code": 2, "message": needle}
        assert not (tmp_path / "out").exists()


def test_a_cgo_only_program_in_a_pattern_is_built_or_refused_never_skipped(tmp_path: Path, go_bin: str) -> None:
    """`go list` puts the files of a main package that imports "C" in CgoFiles, not GoFiles: the program must
    still be one of `./...`'s (here refused alone, since slimgo builds with CGO_ENABLED=0), not vanish."""
    cgo = subprocess.run([go_bin, "env", "CGO_ENABLED"], capture_output=True, text=True, check=True).stdout.strip()
    if cgo != "1":  # no C compiler: go list then ignores the file, as `go build ./...` would
        pytest.skip("go has cgo off here (no C compiler)")
    mod = _module(tmp_path / "m", {
        "cmd/plain/main.go": "package main\n\nfunc main() {}\n",
        "cmd/withc/main.go": 'package main\n\n// int one(void) { return 1; }\nimport "C"\n\nfunc main() { _ = C.one() }\n',
    })
    for targets in (("./...",), ("./cmd/withc", "./cmd/plain")):
        run = slimgo("build", *targets, "--oci-layout", tmp_path / "out", "--json", cwd=mod)
        doc = run.json()
        assert (run.code, doc["built"], doc["failed"]) == (1, 1, 1), run.err
        failed = [i for i in doc["images"] if i["image_ref"] is None]
        assert failed[0]["package"] == "example.com/t/cmd/withc" and "uses cgo" in failed[0]["error"]["message"]


def test_compile_error_exits_1_with_the_compiler_output(tmp_path: Path, go_bin: str) -> None:
    mod = _module(tmp_path / "m", {"main.go": "package main\n\nfunc main() { undefinedThing() }\n"})
    run = slimgo("build", mod, "--tarball", tmp_path / "x.tar", "--json")
    assert run.code == 1
    assert "compile error" in _one_error_line(run.err)
    assert "undefined: undefinedThing" in run.err  # the compiler's own words follow
    # issue 11, point 13: under --json a failed build prints one document naming the error
    assert run.json() == {"schema_version": 1, "error": {"code": 1, "message": _one_error_line(run.err)
                                                         .removeprefix("slimgo: error: ")}}
    assert not list(tmp_path.glob("*.tar*"))


def test_go_missing(tmp_path: Path) -> None:
    run = slimgo("build", HELLO, env={"SLIMGO_GO": str(tmp_path / "no-go")})
    assert run.code == 2 and "go toolchain not found" in _one_error_line(run.err)


def test_unknown_flag() -> None:
    run = slimgo("build", "--frobnicate")
    assert run.code == 2 and "--frobnicate" in _one_error_line(run.err)


def test_unwritable_output_path_fails_before_compiling(tmp_path: Path, go_bin: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    run = slimgo("build", HELLO, "--tarball", tmp_path / "no" / "such" / "dir" / "x.tar")
    assert run.code == 2 and "does not exist" in _one_error_line(run.err)
    assert "compiling" not in run.err
    (locked / "f").write_text("keep me")
    run = slimgo("build", HELLO, "--oci-layout", locked)
    assert run.code == 2 and "not empty" in _one_error_line(run.err)
    assert (locked / "f").read_text() == "keep me"


@pytest.mark.parametrize("body,needle", [
    ("build: [unclosed\n", "invalid YAML"),
    ("build:\n  ldflagz: -X a=b\n", "unknown build key 'ldflagz'"),
    ("build:\n  tags: netgo\n", "build.tags has the wrong type"),
    ("nonsense: 1\n", "unknown key 'nonsense'"),
])
def test_bad_config_file(tmp_path: Path, go_bin: str, body: str, needle: str) -> None:
    mod = _module(tmp_path / "m", {"main.go": "package main\n\nfunc main() {}\n", ".slimgo.yaml": body})
    run = slimgo("build", mod, "--tarball", tmp_path / "x.tar")
    assert run.code == 2 and needle in _one_error_line(run.err)


def test_config_file_flags_apply_and_cli_wins(tmp_path: Path, go_bin: str) -> None:
    src = """package main

import "fmt"

var version = "none"

func main() { fmt.Println(version) }
"""
    mod = _module(tmp_path / "m", {"main.go": src,
                                   ".slimgo.yaml": "build:\n  ldflags: -X main.version=fromfile\n  user: '1234'\n"})
    run = slimgo("build", mod, "--oci-layout", tmp_path / "l", "--json", "--no-reference")
    assert run.code == 0, run.err
    assert "-X main.version=fromfile" in run.json()["go_build"]
    cfg = _config(tmp_path / "l")
    assert cfg["config"]["User"] == "1234"
    run = slimgo("build", mod, "--ldflags", "-X main.version=fromcli", "--user", "4321", "--oci-layout",
                 tmp_path / "l", "--json", "--no-reference")
    assert run.code == 0, run.err
    assert run.json()["go_build"].endswith("-X main.version=fromcli'")
    assert _config(tmp_path / "l")["config"]["User"] == "4321"


def _config(layout: Path, index_entry: int = 0) -> dict:
    blob = lambda d: layout / "blobs" / "sha256" / d.split(":")[1]  # noqa: E731
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(index["manifests"][index_entry]["digest"]).read_bytes())
    return json.loads(blob(manifest["config"]["digest"]).read_bytes())


def test_cgo_binary_is_refused_on_the_static_base_naming_missing_files(tmp_path: Path, go_bin: str) -> None:
    run = slimgo("build", HELLO, "--env", "CGO_ENABLED=1", "--tarball", tmp_path / "x.tar")
    line = _one_error_line(run.err)
    assert run.code == 2
    assert "dynamically linked" in line and "ld-linux-x86-64.so.2" in line and "libc.so.6" in line
    assert not (tmp_path / "x.tar").exists()


def test_scratch_base_has_only_the_binary(tmp_path: Path, go_bin: str) -> None:
    run = slimgo("build", HELLO, "--base", "scratch", "--oci-layout", tmp_path / "l", "--json", "--no-reference")
    assert run.code == 0, run.err
    doc = run.json()
    assert len(doc["layers"]) == 1
    cfg = _config(tmp_path / "l")
    assert cfg["config"]["Entrypoint"] == ["/app/hello"]
    assert "User" not in cfg["config"]


def test_data_directory_becomes_its_own_layer(tmp_path: Path, go_bin: str) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "index.html").write_text("<h1>hi</h1>")
    (data / "sub" / "run.sh").write_text("#!/bin/true\n")
    (data / "sub" / "run.sh").chmod(0o700)
    run = slimgo("build", HELLO, "--data", data, "--oci-layout", tmp_path / "l", "--json", "--no-reference")
    assert run.code == 0, run.err
    layers = run.json()["layers"]
    assert [layer["comment"] for layer in layers] == ["slimgo static base", "data", "hello binary"]
    layout = tmp_path / "l"
    with tarfile.open(layout / "blobs" / "sha256" / layers[1]["digest"].split(":")[1]) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["app/data/index.html"].mode == 0o644
    assert members["app/data/sub/run.sh"].mode == 0o755  # normalised: umask never changes digests
    assert "SLIMGO_DATA_PATH=/app/data" in _config(layout)["config"]["Env"]


def test_zstd_layers_warn_and_are_smaller(tmp_path: Path, go_bin: str) -> None:
    gz = slimgo("build", HELLO, "--oci-layout", tmp_path / "g", "--json", "--no-reference")
    zs = slimgo("build", HELLO, "--compression", "zstd", "--oci-layout", tmp_path / "z", "--json",
                "--no-reference")
    assert gz.code == 0 and zs.code == 0, zs.err
    assert "Docker Engine < 23" in zs.err
    assert {layer["media_type"] for layer in zs.json()["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    assert zs.json()["compressed_bytes"] < gz.json()["compressed_bytes"]
    assert [layer["diff_id"] for layer in zs.json()["layers"]] == [layer["diff_id"] for layer in gz.json()["layers"]]


def test_bad_compression_level(tmp_path: Path) -> None:
    run = slimgo("build", HELLO, "--compression-level", "13", cwd=tmp_path)  # libdeflate, the default: 0-12
    assert run.code == 2 and "out of range" in _one_error_line(run.err)
    run = slimgo("build", HELLO, "--compression-level", "12", "--gzip-library", "zlib", cwd=tmp_path)
    assert run.code == 2 and "(0-9)" in _one_error_line(run.err)
    assert not (tmp_path / "dist").exists()  # refused before anything was written


def test_multi_platform_index_and_arm64_runs_under_qemu(tmp_path: Path, go_bin: str, docker: str,
                                                        oci_schemas: Path) -> None:
    tag = unique_tag("hello-multi")
    run = slimgo("build", HELLO, "--platform", "linux/arm64,linux/amd64", "--tag", tag, "--oci-layout",
                 tmp_path / "l", "--tarball", tmp_path / "arm.tar", "--json", "--no-reference")
    assert run.code == 0, run.err
    doc = run.json()
    assert [p["platform"] for p in doc["platforms"]] == ["linux/arm64", "linux/amd64"]
    layout = tmp_path / "l"
    index = json.loads((layout / "index.json").read_text())
    assert index["manifests"][0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    image_index = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    assert [m["platform"]["architecture"] for m in image_index["manifests"]] == ["arm64", "amd64"]
    validate(oci_schemas, "image-index-schema.json", index)
    validate(oci_schemas, "image-index-schema.json", image_index)
    for m in image_index["manifests"]:
        manifest = json.loads((layout / "blobs/sha256" / m["digest"].split(":")[1]).read_text())
        validate(oci_schemas, "image-manifest-schema.json", manifest)
        config = json.loads((layout / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_text())
        validate(oci_schemas, "config-schema.json", config)
        assert config["architecture"] == m["platform"]["architecture"]
    # the base layer is shared by both platforms: one blob
    base_digests = {p["layers"][0]["digest"] for p in doc["platforms"]}
    assert len(base_digests) == 1
    # docker load takes the host's image from the tarball
    subprocess.run([docker, "load", "-i", str(tmp_path / "arm.tar")], check=True, capture_output=True)
    run_host = docker_run(docker, tag, "-check")
    assert run_host.returncode == 0 and json.loads(run_host.stdout)["uid"] == 65532
    # and the arm64 binary runs under qemu from a layout-only build
    tag_arm = unique_tag("hello-arm64")
    arm = slimgo("build", HELLO, "--platform", "linux/arm64", "--tag", tag_arm, "--tarball", tmp_path / "a.tar",
                 "--no-reference")
    assert arm.code == 0, arm.err
    subprocess.run([docker, "load", "-i", str(tmp_path / "a.tar")], check=True, capture_output=True)
    proc = subprocess.run([docker, "run", "--rm", "--platform", "linux/arm64", tag_arm, "-check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["asia_shanghai"] == "CST +0800"
    arch = subprocess.run([docker, "image", "inspect", "-f", "{{.Architecture}}", tag_arm], capture_output=True,
                          text=True).stdout.strip()
    assert arch == "arm64"


def test_default_output_goes_to_dist_and_prints_the_load_line(tmp_path: Path, go_bin: str) -> None:
    run = slimgo("build", HELLO, "--no-reference", cwd=tmp_path)
    assert run.code == 0, run.err
    assert (tmp_path / "dist" / "hello.tar").is_file()
    assert "docker load -i dist/hello.tar" in run.out
    assert not [p for p in (tmp_path / "dist").iterdir() if p.name != "hello.tar"]  # no temp leftovers


def test_interrupted_build_leaves_no_output(tmp_path: Path, go_bin: str) -> None:
    """SIGTERM while compiling: the tarball path must not exist afterwards, not even half-written."""
    import signal
    import sys

    mod = tmp_path / "m"
    mod.mkdir()
    (mod / "go.mod").write_text("module example.com/slow\n\ngo 1.22\n")
    # a fresh GOCACHE makes the compile last long enough to interrupt
    (mod / "main.go").write_text('package main\n\nimport _ "net/http"\n\nfunc main() {}\n')
    env = {**os.environ, "GOCACHE": str(tmp_path / "gocache")}
    proc = subprocess.Popen([sys.executable, "-m", "slimgo", "build", str(mod), "--tarball", str(tmp_path / "o.tar")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait for the event: the compiler has started (progress goes to stderr)
        seen.append(line)
        if line.startswith("compiling "):
            break
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "o.tar").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.tar")]
