"""slimgo inspect on five real images built by the engine and saved with `docker save`: a golang image
(the host toolchain), slimgo's own output, a cgo binary on a musl base, an image with planted secrets
and risky permissions, and a multi-layer image that overwrites and deletes. Oracles: dive (the real
tool, same archive) for every waste number, the engine itself for "will not start", and the planted
problems."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from slimgo.inspect.surface import redact
from tests.support.cli import slimgo
from tests.support.inspect_images import FAKE_KEY, build_all, docker
from tests.support.parts import DOCKER, record_image, require

pytestmark = pytest.mark.integration
NAMES = ("golang", "slimgo", "alpine-cgo", "secret", "multi")


def _dive() -> str | None:
    found = shutil.which("dive")
    if found:
        return found
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    cand = Path(gopath) / "bin" / "dive"
    return str(cand) if cand.is_file() else None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> Iterator[dict[str, Path]]:
    """Built once per run: xdist workers share them through a lock. They leave the engine when the whole run
    ends (recorded for the controller), not when one worker is done with this module: xdist can hand the
    same worker or another one more of this module's tests afterwards."""
    require(Path(DOCKER).exists() and subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0,
            "the Docker engine is not running")
    require(shutil.which("busybox") is not None, "busybox-static is not installed")
    require(Path("/lib/ld-musl-x86_64.so.1").exists(), "musl is not installed (its loader makes the musl base)")
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "slimgo-inspect-images"
    shared.mkdir(exist_ok=True)
    state = shared / "state.json"
    with _locked(shared / "lock"):
        if state.exists():
            doc = json.loads(state.read_text())
        else:
            built = build_all(f"slimgo-inspect-{uuid.uuid4().hex[:8]}", shared)
            for tag in built.tags:
                record_image(tag)
            doc = {"archives": {k: str(v) for k, v in built.archives.items()}, "tags": built.tags}
            state.write_text(json.dumps(doc))
    names = ("busybox", "musl", "alpine-cgo", "secret", "multi")
    yield {**{k: Path(v) for k, v in doc["archives"].items()},
           **{f"tag:{n}": Path(t) for n, t in zip(names, doc["tags"])}}


@pytest.fixture(scope="module")
def docs(images: dict[str, Path]) -> dict[str, dict]:
    out = {}
    for name in NAMES:
        r = slimgo("inspect", f"docker-archive:{images[name]}", "--json")
        assert r.code == 0, r.err
        out[name] = r.json()
    return out


@pytest.mark.parametrize("name", NAMES)
def test_waste_numbers_equal_dive(images: dict[str, Path], docs: dict[str, dict], name: str,
                                  tmp_path: Path) -> None:
    dive = _dive()
    require(dive is not None, "dive is not installed (scripts/test.sh installs it with go install)")
    out = tmp_path / "dive.json"
    subprocess.run([dive, "--source", "docker-archive", "--json", str(out), str(images[name])], check=True,
                   capture_output=True, timeout=300)
    d = json.loads(out.read_text())
    w = docs[name]["waste"]["dive"]
    assert w["size_bytes"] == d["image"]["sizeBytes"]
    assert w["wasted_bytes"] == d["image"]["inefficientBytes"]
    assert abs(w["efficiency"] - d["image"]["efficiencyScore"]) < 1e-12
    assert [x["size_bytes"] for x in docs[name]["layers"]] == [x["sizeBytes"] for x in d["layer"]]
    # dive shows the history's created_by without its "/bin/sh -c " prefix (and slimgo redacts secrets in it)
    assert [x["created_by"].removeprefix("/bin/sh -c ") for x in docs[name]["layers"]] == \
        [redact(x["command"]) for x in d["layer"]]
    theirs = {(f["file"], f["count"], f["sizeBytes"]) for f in d["image"]["fileReference"]}
    ours = {(f["path"], f["count"], f["bytes"]) for f in w["inefficient_files"]}
    assert w["inefficient_file_count"] == len(theirs)
    assert ours <= theirs and len(ours) == min(len(theirs), 50)


def test_golang_image(docs: dict[str, dict], go_bin: str) -> None:
    doc = docs["golang"]
    version = subprocess.run([go_bin, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    gos = {g["path"]: g for g in doc["go_binaries"]}
    assert {"/usr/local/go/bin/go", "/usr/local/go/bin/gofmt"} <= set(gos)
    assert any(p.startswith("/usr/local/go/pkg/tool/") for p in gos)
    assert all(g["go_version"] == version for g in gos.values())
    go_m = json.loads(subprocess.run([go_bin, "version", "-m", "-json", shutil.which("go") or "go"],
                                     capture_output=True, text=True).stdout or "{}")
    if go_m:
        assert gos["/usr/local/go/bin/go"]["main_package"] == go_m.get("Path")
    # GOROOT's own sources are the toolchain, not clutter a .dockerignore would have kept out.
    assert not [g for g in doc["waste"]["clutter"] if g["path"].startswith("/usr/local/go/")]
    assert doc["surface"]["shells"] == ["/bin/busybox", "/bin/sh"]
    assert not doc["start"]["will_start"] and "no ENTRYPOINT or CMD" in doc["start"]["problems"][0]


def test_slimgo_output_passes_ci(images: dict[str, Path], docs: dict[str, dict]) -> None:
    doc = docs["slimgo"]
    assert doc["start"]["will_start"] and doc["start"]["resolved"] == "/app/hello"
    (g,) = doc["go_binaries"]
    assert g["trimpath"] and g["stripped"] and not g["cgo"] and not g["debug"]
    assert not doc["surface"]["shells"] and not doc["surface"]["user"]["root"]
    r = slimgo("inspect", f"docker-archive:{images['slimgo']}", "--ci")
    assert r.code == 0, r.out + r.err
    assert "CI: PASS" in r.out


def test_cgo_binary_on_musl_will_not_start(images: dict[str, Path], docs: dict[str, dict]) -> None:
    doc = docs["alpine-cgo"]
    assert not doc["start"]["will_start"]
    (problem,) = doc["start"]["problems"]
    assert "/lib64/ld-linux-x86-64.so.2" in problem and "libc.so.6" in problem
    app = next(b for b in doc["start"]["binaries"] if b["path"] == "/usr/local/bin/app")
    assert app["link"] == "dynamic" and not app["starts"]
    # The engine agrees: the kernel cannot find the glibc loader.
    run = subprocess.run([DOCKER, "run", "--rm", str(images["tag:alpine-cgo"])], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode != 0 and "no such file or directory" in (run.stderr + run.stdout).lower()
    r = slimgo("inspect", f"docker-archive:{images['alpine-cgo']}", "--ci", "--json")
    assert r.code == 1
    failed = {x["rule"] for x in r.json()["ci"]["rules"] if x["status"] == "fail"}
    assert "will_start" in failed


def test_planted_secrets_and_permissions(images: dict[str, Path], docs: dict[str, dict]) -> None:
    s = docs["secret"]["surface"]
    secrets = {(x["kind"], x["name"], x["deleted_later"]) for x in s["secrets"]}
    assert ("PEM private key", "/root/.ssh/id_rsa", False) in secrets
    assert ("dotenv file", "/app/.env", True) in secrets  # deleted by a later layer, still pulled
    assert ("secret in ENV", "API_TOKEN", False) in secrets
    assert any(k == "secret in build history" and n == "API_TOKEN" for k, n, _ in secrets)
    assert any(k == "secret in build history" and n == "DB_PASSWORD" for k, n, _ in secrets)
    assert s["setuid"] == ["/bin/suidtool"]
    assert "/shared" in s["world_writable"] and "/tmp" not in s["world_writable"]  # /tmp has the sticky bit
    assert s["capabilities"] == ["/bin/pinger"]
    assert s["user"]["root"] and s["exposed_ports"] == ["8080/tcp"]
    clutter = {(g["kind"], g["path"]) for g in docs["secret"]["waste"]["clutter"]}
    assert clutter == {(".git directory", "/src/.git"), ("node_modules", "/src/node_modules"),
                       ("test data", "/src/testdata"), ("Go source", "/src"), ("build file", "/src/go.sum"),
                       ("go build cache", "/root/.cache/go-build"), ("go module cache", "/go/pkg/mod"),
                       ("package manager cache", "/var/cache/apt")}
    for args in (("--json",), ()):
        r = slimgo("inspect", f"docker-archive:{images['secret']}", "--ci", *args)
        text = r.out + r.err
        assert "abc123notreal" not in text and "hunter2" not in text and FAKE_KEY.decode().splitlines()[1] not in text
        assert "hunter3notreal" not in text  # a build ARG, recorded in the RUN layer's history
        assert r.code == 1
    failed = {x["rule"] for x in r_json(images)["ci"]["rules"] if x["status"] == "fail"}
    assert {"no_shell", "no_root", "no_secrets"} <= failed


def r_json(images: dict[str, Path]) -> dict:
    return slimgo("inspect", f"docker-archive:{images['secret']}", "--ci", "--json").json()


def test_multi_layer_deltas_and_trees(images: dict[str, Path], docs: dict[str, dict]) -> None:
    layers = docs["multi"]["layers"]
    assert (layers[2]["changed"], layers[2]["changed_bytes"]) == (1, 500 * 1024)  # /data/a rewritten
    assert layers[2]["removed"] == 2 and layers[2]["removed_bytes"] == 200 * 1024  # /data/d and /data/d/x
    assert layers[3]["removed"] >= 2  # /data/a, and /data/o/old under the opaque directory
    r = slimgo("inspect", f"docker-archive:{images['multi']}", "--tree", "--json")
    paths = {e["path"] for e in r.json()["tree"]["entries"]}
    assert "/data/o/new" in paths and not {"/data/a", "/data/d", "/data/d/x", "/data/o/old"} & paths
    r = slimgo("inspect", f"docker-archive:{images['multi']}", "--layer", "3", "--json")
    gone = {(e["path"], e.get("whiteout")) for e in r.json()["tree"]["entries"]}
    assert ("/data/a", "deleted") in gone
    r = slimgo("inspect", f"docker-archive:{images['multi']}", "--layer", "9")
    assert r.code == 2 and "layers 0-3" in r.err


def test_ci_thresholds_from_dive_ci_slimgo_yaml_and_flags(images: dict[str, Path], tmp_path: Path) -> None:
    ref = f"docker-archive:{images['multi']}"  # efficiency 0.842, wasted 800 KiB
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 1MB\n"
                                       "  highestUserWastedPercent: disabled\n")
    (tmp_path / ".slimgo.yaml").write_text("inspect:\n  no_shell: false\n  no_root: false\n  not_debug: true\n")
    r = slimgo("inspect", ref, "--ci", "--json", cwd=tmp_path)
    rules = {x["rule"]: x["status"] for x in r.json()["ci"]["rules"]}
    assert r.code == 1 and rules["lowestEfficiency"] == "fail" and rules["highestWastedBytes"] == "pass"
    assert rules["highestUserWastedPercent"] == "skip" and rules["no_shell"] == "skip" and rules["no_root"] == "skip"
    r = slimgo("inspect", ref, "--ci", "--lowest-efficiency", "0.8", "--highest-wasted-bytes", "500KiB",
               "--json", cwd=tmp_path)
    rules = {x["rule"]: x["status"] for x in r.json()["ci"]["rules"]}
    assert rules["lowestEfficiency"] == "pass" and rules["highestWastedBytes"] == "fail"
    assert "highestWastedBytes" in r.err
    r = slimgo("inspect", ref, "--ci", "--lowest-efficiency", "7", cwd=tmp_path)
    assert r.code == 2 and "outside 0-1" in r.err and len(r.err.strip().splitlines()) == 1  # before any reading


def test_diff_shows_what_changed(images: dict[str, Path]) -> None:
    r = slimgo("inspect", f"docker-archive:{images['secret']}", "--diff", f"docker-archive:{images['multi']}",
               "--json")
    d = r.json()["diff"]
    assert d["layers"]["shared"] == 1  # the busybox base
    assert d["surface"]["setuid"]["removed"] == ["/bin/suidtool"]
    assert "/root/.ssh/id_rsa (PEM private key)" in d["surface"]["secrets"]["removed"]
    assert any(x["path"] == "/data/o/new" for x in d["files"]["top_added"])
    assert d["will_start"] == {"old": True, "new": True}


def test_html_report_is_self_contained(images: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = slimgo("inspect", f"docker-archive:{images['secret']}", "--html", str(out))
    assert r.code == 0, r.err
    page = out.read_text()
    assert "<svg" in page and "<style>" in page and "<script" not in page.lower()
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "/bin/suidtool" in page and "abc123notreal" not in page


def test_daemon_ref_and_debug_label(images: dict[str, Path], tmp_path: Path) -> None:
    tag = f"{images['tag:multi']}-debug".replace(":1-debug", "-debug:1")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {images['tag:multi']}\nLABEL dev.slimgo.debug=true\n")
    docker("build", "-q", "-t", tag, str(ctx))
    try:
        r = slimgo("inspect", f"docker-daemon:{tag}", "--ci", "--json")
        doc = r.json()
        assert doc["debug_image"] and r.code == 1
        assert {x["rule"]: x["status"] for x in doc["ci"]["rules"]}["not_debug"] == "fail"
        assert doc["waste"]["dive"]["wasted_bytes"] == 819200
        assert "debug image" in slimgo("inspect", f"docker-daemon:{tag}").out
    finally:
        subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True)


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    r = slimgo("inspect", f"docker-archive:{tmp_path / 'nope.tar'}", "--json")
    assert r.code == 2 and r.json()["error"]["message"].endswith("no such file")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(os.urandom(4096))
    r = slimgo("inspect", f"docker-archive:{junk}")
    assert r.code == 2 and "Traceback" not in r.err
    assert [line for line in r.err.splitlines() if "error" in line] == [r.err.strip().splitlines()[-1]]


def test_escaping_layer_is_refused(tmp_path: Path) -> None:
    """A layer entry named ../../etc/x, imported by the engine as-is, must be refused by inspect."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/evil")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    layer = buf.getvalue()
    import hashlib

    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "config": {}}).encode()
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in (("l/layer.tar", layer), ("c.json", config),
                           ("manifest.json", json.dumps([{"Config": "c.json", "Layers": ["l/layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    r = slimgo("inspect", f"docker-archive:{archive}")
    assert r.code == 2 and "escapes the image root" in r.err


def test_registry_ref(images: dict[str, Path], tmp_path: Path, skopeo: str) -> None:
    """A registry reference is read through base/remote.py: same numbers as the archive it was pushed from."""
    from tests.support.registry import have_registry, registry

    require(have_registry(), "docker-registry is not installed (apt-get install docker-registry)")
    with registry(tmp_path / "r") as host:
        subprocess.run([skopeo, "copy", "--dest-tls-verify=false", f"docker-archive:{images['multi']}",
                        f"docker://{host}/multi:1"], check=True, capture_output=True, timeout=120)
        r = slimgo("inspect", f"{host}/multi:1", "--json", env={"SLIMGO_CACHE": str(tmp_path / "cache")})
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["waste"]["dive"]["wasted_bytes"] == 819200 and doc["totals"]["layers"] == 4
    assert doc["manifest_digest"].startswith("sha256:")


def _archive(path: Path, layers: list[list[tuple[str, bytes | None]]]) -> Path:
    """A `docker save`-format archive made by hand (names with a trailing / are directories)."""
    import hashlib
    import io
    import tarfile

    blobs = []
    for members in layers:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in members:
                info = tarfile.TarInfo(name.rstrip("/"))
                if name.endswith("/"):
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                else:
                    info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
        blobs.append(buf.getvalue())
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    history = [{"created_by": f"layer {i}"} for i in range(len(blobs))]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/b"]}, "history": history,
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    names = [f"l{i}/layer.tar" for i in range(len(blobs))]
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["x:1"], "Layers": names}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in [*zip(names, blobs), ("c.json", config), ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_dive_corner_cases_agree(tmp_path: Path) -> None:
    """Implicit parents, a whiteout of a directory, of a missing path (dive stops scoring that layer), an
    opaque directory, and a path deleted and re-added in one layer: the numbers still equal dive's."""
    dive = _dive()
    require(dive is not None, "dive is not installed (scripts/test.sh installs it with go install)")
    archive = _archive(tmp_path / "corner.tar", [
        [("a/", None), ("a/f", b"x" * 10), ("b", b"y" * 5), ("c/x", b"z" * 7), ("d/", None), ("d/old", b"o" * 3)],
        [(".wh.a", None), (".wh.nothere", None), ("b", b"y" * 20), ("c/x", b"z" * 9)],
        [("d/", None), ("d/.wh..wh..opq", None), ("d/y", b"n" * 4), ("c/.wh.x", None), ("b", b"y" * 30),
         ("e/f", b"e" * 6)],
        [(".wh.b", None), ("b", b"q" * 2), ("e/", None)],
    ])
    out = tmp_path / "dive.json"
    subprocess.run([dive, "--source", "docker-archive", "--json", str(out), str(archive)], check=True,
                   capture_output=True, timeout=120)
    d = json.loads(out.read_text())
    r = slimgo("inspect", f"docker-archive:{archive}", "--json")
    assert r.code == 0, r.err
    w = r.json()["waste"]["dive"]
    assert (w["size_bytes"], w["wasted_bytes"]) == (d["image"]["sizeBytes"], d["image"]["inefficientBytes"])
    assert abs(w["efficiency"] - d["image"]["efficiencyScore"]) < 1e-12
    assert {(f["path"], f["count"], f["bytes"]) for f in w["inefficient_files"]} == \
        {(f["file"], f["count"], f["sizeBytes"]) for f in d["image"]["fileReference"]}


def test_oci_layout_index_and_platform(tmp_path: Path, go_bin: str) -> None:
    """An index with two platforms and zstd layers: --platform picks one; the default is linux/amd64."""
    from tests.support.parts import HELLO

    layout = tmp_path / "layout"
    b = slimgo("build", str(HELLO), "--platform", "linux/amd64,linux/arm64", "--oci-layout", str(layout),
               "--compression", "zstd", "--compression-level", "3", "--no-reference")
    assert b.code == 0, b.err
    arm = slimgo("inspect", f"oci:{layout}", "--platform", "linux/arm64", "--json").json()
    amd = slimgo("inspect", f"oci:{layout}", "--json").json()
    assert (arm["platform"], amd["platform"]) == ("linux/arm64", "linux/amd64")
    assert arm["start"]["will_start"] and amd["start"]["will_start"]
    assert [b["wrong_arch"] for b in arm["start"]["binaries"]] == [""]
    assert amd["totals"]["compressed_bytes"] < amd["totals"]["uncompressed_bytes"]  # zstd streamed and measured
    assert amd["waste"]["dive"]["size_bytes"] == sum(x["size_bytes"] for x in amd["layers"]) > 0
    assert slimgo("inspect", f"oci:{layout}", "--platform", "linux/s390x").code == 2

