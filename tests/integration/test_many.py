"""Many programs against real parts: `go list`, `go build`, Debian's registry and skopeo.

One tiny generated module (no dependencies: nothing is downloaded) with two programs, a broken one and a
test-only package; built once per naming and once through `resolve`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import slimgo
from tests.support.monorepo import MODULE, write_monorepo
from tests.support.parts import require
from tests.support.registry import have_registry, registry

pytestmark = pytest.mark.integration

MANIFESTS = Path(__file__).resolve().parent.parent / "data" / "manifests"


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    require(have_registry(), "docker-registry is not installed (apt-get install docker-registry)")
    with registry(tmp_path_factory.mktemp("registry")) as host:
        yield host


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> Path:
    return write_monorepo(tmp_path_factory.mktemp("mono"), ["alpha", "beta"], broken=True, test_only=True)


def _inspect(skopeo: str, ref: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run([skopeo, "inspect", "--tls-verify=false", f"docker://{ref}"], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout)


def test_build_all_reports_the_broken_program_and_publishes_the_rest(reg: str, mono: Path, skopeo: str,
                                                                    tmp_path: Path) -> None:
    refs_file = tmp_path / "refs.txt"
    r = slimgo("build", "./...", "--push", f"{reg}/mono", "--image-refs", refs_file, "--json",
               "--sbom", "none", "--no-provenance", cwd=mono)  # the blob counts below are the images' blobs
    assert r.code == 1, r.err  # one program failed: exit 1, the others published
    doc = r.json()
    assert doc["schema_version"] == 1 and (doc["built"], doc["failed"]) == (2, 1)
    by_pkg = {i["package"]: i for i in doc["images"]}
    assert set(by_pkg) == {f"{MODULE}/cmd/alpha", f"{MODULE}/cmd/beta", f"{MODULE}/cmd/broken"}  # no test-only
    broken = by_pkg[f"{MODULE}/cmd/broken"]
    assert broken["image_ref"] is None and broken["error"]["code"] == 1 and "undefinedName" in broken["error"]["message"]
    # one `go build` for the three programs failed; the broken one, built again alone, reports its own error
    assert "compiling 3 programs in one go build" in r.err and "did not build together" in r.err
    assert broken["error"]["message"].startswith(f"compile error in {MODULE}/cmd/broken: ")
    good = [by_pkg[f"{MODULE}/cmd/{n}"] for n in ("alpha", "beta")]
    assert refs_file.read_text().splitlines() == [g["image_ref"] for g in good]
    for g in good:  # ko's default naming: last element and the md5 of the import path
        assert g["repository"].startswith(f"{reg}/mono/{g['package'].rsplit('/', 1)[1]}-")
        assert _inspect(skopeo, g["image_ref"])["Digest"] == g["image_digest"]
    # both programs' bases are identical (same needs): uploaded once, mounted into the other repository
    assert doc["push"]["mounted_blobs"] >= 1 and doc["push"]["uploaded_blobs"] == 5


def test_programs_built_together_are_the_bytes_each_builds_alone(reg: str, mono: Path) -> None:
    """The two programs come from one `go build` per platform; each built alone (one TARGET: its own
    `go build`) gives the same image digests, so the same binaries."""
    platforms = ("--platform", "linux/amd64,linux/arm64", "--sbom", "none", "--no-provenance", "--json")
    together = slimgo("build", "./cmd/alpha", "./cmd/beta", "--push", f"{reg}/together", *platforms, cwd=mono)
    assert together.code == 0, together.err
    assert together.err.count("compiling 2 programs in one go build") == 2  # one per platform
    for image in together.json()["images"]:
        name = image["package"].rsplit("/", 1)[1]
        alone = slimgo("build", f"./cmd/{name}", "--push", f"{reg}/alone/{name}", *platforms, cwd=mono)
        assert alone.code == 0 and "in one go build" not in alone.err, alone.err
        assert alone.json()["image_digest"] == image["image_digest"]


def test_a_program_broken_since_the_last_build_fails_alone(reg: str, tmp_path: Path) -> None:
    """The combined build keeps its outputs between runs; when it fails, the broken program's binary from
    the run before must not be published: it fails with its own error and the other one is published."""
    src = write_monorepo(tmp_path / "src", ["alpha", "beta"])
    args = ("build", "./...", "--push", f"{reg}/again", "--json", "--sbom", "none", "--no-provenance")
    first = slimgo(*args, cwd=src)
    assert first.code == 0 and first.json()["built"] == 2, first.err
    (src / "cmd" / "beta" / "main.go").write_text("package main\n\nfunc main() { stillUndefined() }\n")
    second = slimgo(*args, cwd=src)
    assert second.code == 1, second.err
    by_pkg = {i["package"]: i for i in second.json()["images"]}
    assert by_pkg[f"{MODULE}/cmd/beta"]["image_ref"] is None
    assert by_pkg[f"{MODULE}/cmd/beta"]["error"]["message"].startswith(f"compile error in {MODULE}/cmd/beta: ")
    assert "stillUndefined" in by_pkg[f"{MODULE}/cmd/beta"]["error"]["message"]
    assert by_pkg[f"{MODULE}/cmd/alpha"]["image_digest"] == \
        {i["package"]: i for i in first.json()["images"]}[f"{MODULE}/cmd/alpha"]["image_digest"]


def test_several_targets_with_preserved_import_paths(reg: str, mono: Path, skopeo: str) -> None:
    r = slimgo("build", "./cmd/alpha", str(mono / "cmd" / "beta"), "-P", "--jobs", "1", "--json",
               cwd=mono, env={"SLIMGO_REPO": f"{reg}/p"})
    assert r.code == 0, r.err
    images = r.json()["images"]
    assert [i["repository"] for i in images] == [f"{reg}/p/{MODULE}/cmd/alpha", f"{reg}/p/{MODULE}/cmd/beta"]
    assert all(_inspect(skopeo, i["image_ref"])["Digest"] == i["image_digest"] for i in images)


def test_resolve_pins_every_reference_and_keeps_the_rest(reg: str, mono: Path, skopeo: str) -> None:
    r = slimgo("resolve", "-f", MANIFESTS, "--recursive", "--push", f"{reg}/k8s", cwd=mono)
    assert r.code == 0, r.err
    assert r.err.splitlines()[-1].startswith("2 built, 0 failed in ")
    originals = [(MANIFESTS / n).read_text() for n in ("cronjob.yaml", "deployment.yaml", "extra/crd.yaml",
                                                       "extra/knative.yaml")]
    docs = r.out.split("---\n")
    pinned = sorted({w.strip("'\",[]") for line in r.out.splitlines() for w in line.split() if "@sha256:" in w})
    assert len(pinned) == 2 and all(p.startswith(f"{reg}/k8s/") for p in pinned)  # alpha and beta, once each
    for ref in pinned:
        assert _inspect(skopeo, ref)["Digest"] == ref.split("@", 1)[1]
    out_lines = r.out.splitlines()
    src_lines = [ln for text in originals for ln in text.splitlines()]
    untouched = [ln for ln in src_lines if "slimgo://" not in ln and ("ko://" not in ln or "see ko://" in ln)]
    assert len(docs) >= 4 and all(ln in out_lines for ln in untouched)  # byte-equal, comments included
    assert not any("slimgo://" in ln or ("ko://" in ln and "see ko://" not in ln) for ln in out_lines)

    # --json: one document with the same manifests, and every reference with its line and digest reference.
    again = slimgo("resolve", "-f", MANIFESTS, "--recursive", "--push", f"{reg}/k8s", "--json", cwd=mono)
    doc = again.json()
    assert again.code == 0 and doc["manifests"] == r.out and doc["failed"] == 0
    refs = [ref for f in doc["files"] for ref in f["references"]]
    assert len(refs) == 6 and {ref["image_ref"] for ref in refs} == set(pinned)
    for f in doc["files"]:
        lines = Path(f["name"]).read_text().splitlines()
        assert all(ref["reference"] in lines[ref["line"] - 1] for ref in f["references"])

    # Kustomize-style: the same manifests piped in on stdin give the same digests (reproducible builds).
    stdin = (MANIFESTS / "cronjob.yaml").read_text()
    proc = subprocess.run([sys.executable, "-m", "slimgo", "resolve", "-f", "-", "--push", f"{reg}/k8s"], cwd=mono,
                          input=stdin, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    beta = [p for p in pinned if "/beta-" in p]
    assert beta and beta[0] in proc.stdout


def test_resolve_prints_nothing_when_a_program_fails(reg: str, mono: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(f"image: ko://{MODULE}/cmd/broken\n")
    r = slimgo("resolve", "-f", tmp_path / "bad.yaml", "--push", f"{reg}/k8s", cwd=mono)
    assert (r.code, r.out) == (1, "") and "cmd/broken" in r.err
    assert r.err.splitlines()[-1].startswith("0 built, 1 failed in ")  # the same summary as build ./...


def test_local_outputs_hold_every_program_under_its_name(reg: str, mono: Path, skopeo: str, docker: str,
                                                        tmp_path: Path) -> None:
    """One OCI layout, one docker-archive and one engine load for every program that built; nothing pushed
    ($SLIMGO_REPO only names the images when a local output is asked for)."""
    umoci = shutil.which("umoci")
    require(umoci is not None, "umoci is not installed (scripts/test.sh installs it)")
    layout, tar = tmp_path / "layout", tmp_path / "all.tar"
    r = slimgo("build", "./...", "--oci-layout", layout, "--tarball", tar, "--load", "--json", "--sbom", "none",
               "--no-provenance", cwd=mono, env={"SLIMGO_REPO": "slimgo-fleet-test.local/many"})
    doc = r.json()
    good = [i for i in doc["images"] if i["image_ref"]]
    names = [f"{i['repository']}:latest" for i in good]
    try:
        assert (r.code, doc["built"], doc["failed"], doc["push"]) == (1, 2, 1, None), r.err  # broken: reported
        assert set(doc["outputs"]) == {"oci_layout", "tarball", "loaded"}
        text = slimgo("build", "./...", "--load", "--sbom", "none", "--no-provenance", cwd=mono,
                      env={"SLIMGO_REPO": "slimgo-fleet-test.local/many"})  # text mode: how to run what loaded
        assert f"note: loaded into the Docker engine: run one as `docker run --rm {names[0]}`" in text.err, text.err
        assert "the name@sha256 lines are for a registry" in text.err
        # each program's progress must not claim its outputs are in place: they are written after all built
        assert "every output is in place" not in r.err and r.err.count("image ready; the local outputs") == 2
        index = json.loads((layout / "index.json").read_text())
        by_name = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
        assert by_name == {n: i["image_digest"] for n, i in zip(names, good, strict=True)}
        listed = subprocess.run([umoci, "ls", "--layout", str(layout)], capture_output=True, text=True, check=True)
        assert sorted(listed.stdout.split()) == sorted(names)  # umoci reads every name
        for name, image in zip(names, good, strict=True):
            for source in (f"oci:{layout}:{name}", f"docker-archive:{tar}:{name}"):
                got = json.loads(subprocess.run([skopeo, "inspect", source], capture_output=True, text=True,
                                                check=True).stdout)
                assert got["Layers"] and (source.startswith("docker-archive") or got["Digest"] == image["image_digest"])
            run = subprocess.run([docker, "run", "--rm", name], capture_output=True, text=True, timeout=120)
            assert run.returncode == 0 and image["package"].rsplit("/", 1)[1] in run.stdout, run.stderr
        # --push as well: the same images go to the registry, and the layout names them as pushed
        both = slimgo("build", "./...", "--push", f"{reg}/both", "--oci-layout", tmp_path / "both", "--json",
                      "--sbom", "none", "--no-provenance", cwd=mono)
        pushed = {i["repository"]: i["image_digest"] for i in both.json()["images"] if i["image_ref"]}
        index = json.loads((tmp_path / "both" / "index.json").read_text())
        assert both.code == 1 and both.json()["push"]["uploaded_blobs"] > 0
        assert {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]} \
            == {f"{repo}:latest": digest for repo, digest in pushed.items()}
        assert all(_inspect(skopeo, f"{repo}:latest")["Digest"] == digest for repo, digest in pushed.items())
    finally:
        subprocess.run([docker, "rmi", "-f", *names], capture_output=True)


def test_a_registry_that_is_down_is_a_remote_failure_found_once(tmp_path: Path) -> None:
    """Every program fails the same way when the registry cannot be reached: the exit status is 3 (remote),
    as for one image, and the retries are spent once for the host, not once per program."""
    import socket
    import time

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = write_monorepo(tmp_path / "src", ["alpha", "beta", "gamma"])
    started = time.monotonic()
    one = slimgo("build", "./cmd/alpha", "--push", f"127.0.0.1:{port}/down/alpha", cwd=src)
    retries = time.monotonic() - started  # one program: one round of retries
    assert one.code == 3, one.err
    started = time.monotonic()
    r = slimgo("build", "./...", "--push", f"127.0.0.1:{port}/down", "--json", "--jobs", "1", "--sbom", "none",
               "--no-provenance", cwd=src)
    seconds = time.monotonic() - started
    assert r.code == 3, r.err
    doc = r.json()
    assert (doc["built"], doc["failed"]) == (0, 3)
    assert {i["error"]["code"] for i in doc["images"]} == {3}
    assert len({i["error"]["message"] for i in doc["images"]}) == 1
    # one at a time, three rounds of retries would take three times as long
    assert seconds < 1.5 * retries + 3, (seconds, retries, r.err)


def test_an_option_every_program_refuses_is_one_bad_input_error(tmp_path: Path) -> None:
    """`--platform linux/foo` (or `--user a:b:c`) is wrong for every program alike: one error line, exit 2,
    and under --json the one error document, as for one image; not "0 built, N failed" with exit 1."""
    src = write_monorepo(tmp_path / "src", ["alpha", "beta"], broken=True)
    for flags, needle in [(("--platform", "linux/foo"), "unknown architecture 'foo'"),
                          (("--platform", "linux/amd64,linux/amd64"), "a platform is listed twice"),
                          (("--user", "a:b:c"), "--user 'a:b:c'")]:
        r = slimgo("build", "./...", "--oci-layout", tmp_path / "out", *flags, cwd=src)
        lines = [ln for ln in r.err.splitlines() if ln.startswith("slimgo: error:")]
        assert r.code == 2 and len(lines) == 1 and needle in lines[0] and "Traceback" not in r.err, r.err
        assert not (tmp_path / "out").exists()
        j = slimgo("build", "./...", "--oci-layout", tmp_path / "out", *flags, "--json", cwd=src)
        assert j.code == 2 and j.json()["error"]["code"] == 2 and needle in j.json()["error"]["message"]
    # one program alone refused (its own reason) stays that program's failure: the others are built
    (src / "cmd" / "beta" / "main.go").write_text('package main\n\nimport "C"\n\nfunc main() {}\n')
    r = slimgo("build", "./...", "--oci-layout", tmp_path / "out", "--json", cwd=src)
    assert r.code == 1 and r.json()["built"] == 1, r.err
