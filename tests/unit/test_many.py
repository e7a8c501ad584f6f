"""Many programs and manifests, in-process: ko's naming, reference sites and byte-exact rewriting, and the
bad input that must be refused before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgo.errors import BadInput
from slimgo.many.manifests import Manifest, join, rewrite, sites
from slimgo.many.naming import Naming, repositories, repository
from tests.support.cli import run

DATA = Path(__file__).resolve().parent.parent / "data" / "manifests"
ALPHA = "example.com/slimgo-multi/cmd/alpha"
BETA = "example.com/slimgo-multi/cmd/beta"


def test_default_naming_is_kos_md5_name() -> None:
    # ko prints ko.local/foo/test-46c4b272b3716c422d5ff6dfc7547fa9 for github.com/google/ko/test
    # (ko-build/ko pull request 820): the same repository here.
    assert repository("ko.local/foo", "github.com/google/ko/test", Naming.HASHED) == \
        "ko.local/foo/test-46c4b272b3716c422d5ff6dfc7547fa9"


def test_other_namings_match_ko_flags() -> None:
    assert repository("reg/p/", "github.com/Org/App/cmd/api", Naming.BASE) == "reg/p/api"
    assert repository("reg/p", "github.com/Org/App/cmd/api", Naming.PRESERVE) == "reg/p/github.com/org/app/cmd/api"
    assert repository("reg/p", "github.com/Org/App/cmd/api", Naming.BARE) == "reg/p"


def test_two_programs_on_one_repository_are_refused() -> None:
    with pytest.raises(BadInput, match="a/cmd/api and b/cmd/api would both push to reg/api"):
        repositories("reg", ["a/cmd/api", "b/cmd/api"], Naming.BASE)
    assert len(set(repositories("reg", ["a/cmd/api", "b/cmd/api"], Naming.HASHED).values())) == 2


def _manifest(name: str) -> Manifest:
    return Manifest(name, (DATA / name).read_text())


def test_sites_find_whole_scalars_only_and_skip_aliases() -> None:
    m = _manifest("deployment.yaml")
    found = sites(m)
    # the anchored initContainer image; the alias (*alpha) and the env value that merely mentions ko:// are not sites
    assert [s.import_path for s in found] == [ALPHA]
    assert m.text[found[0].offset:].startswith(f"ko://{ALPHA}\n")


def test_custom_fields_flow_sequences_and_quotes() -> None:
    crd = sites(_manifest("extra/crd.yaml"))
    assert [s.import_path for s in crd] == [BETA, ALPHA, BETA]
    assert [s.import_path for s in sites(_manifest("cronjob.yaml"))] == [BETA]
    assert [s.import_path for s in sites(_manifest("extra/knative.yaml"))] == [ALPHA]


@pytest.mark.parametrize("name", ["deployment.yaml", "cronjob.yaml", "extra/knative.yaml", "extra/crd.yaml"])
def test_rewrite_changes_only_the_reference_lines(name: str) -> None:
    m = _manifest(name)
    refs = {ALPHA: "reg.example/alpha@sha256:" + "a" * 64, BETA: "reg.example/beta@sha256:" + "b" * 64}
    out = rewrite(m, sites(m), refs)
    before, after = m.text.splitlines(keepends=True), out.splitlines(keepends=True)
    assert len(before) == len(after)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed, "nothing was replaced"
    for b, a in changed:  # a changed line differs exactly by the replaced references
        for path, ref in refs.items():
            b = b.replace(f"slimgo://{path}", ref).replace(f"ko://{path}", ref)
        assert b == a
    assert "ko://" not in out.replace("see ko://", "") and "slimgo://" not in out
    from ruamel.yaml import YAML

    assert list(YAML(typ="safe").load_all(out))  # still YAML


def test_crlf_manifests_keep_their_line_endings(tmp_path: Path) -> None:
    """A manifest saved with CRLF line endings is printed with them (byte-for-byte), its references too."""
    text = "kind: Pod\r\nspec:\r\n  containers:\r\n  - name: a   # c\r\n    image: ko://" + ALPHA + "\r\n"
    (tmp_path / "crlf.yaml").write_bytes(text.encode())
    (tmp_path / "plain.yaml").write_bytes(b"kind: ConfigMap\r\ndata: {a: '1'}\r\n")
    from slimgo.many.resolve import read_inputs

    m = read_inputs((str(tmp_path / "crlf.yaml"),), False)[0]
    assert m.text == text
    out = rewrite(m, sites(m), {ALPHA: "reg.example/alpha@sha256:" + "a" * 64})
    assert out == text.replace("ko://" + ALPHA, "reg.example/alpha@sha256:" + "a" * 64)
    r = run("resolve", "-f", str(tmp_path / "plain.yaml"))
    assert (r.code, r.out) == (0, "kind: ConfigMap\r\ndata: {a: '1'}\r\n"), r.err


def test_crlf_manifests_piped_in_keep_their_line_endings() -> None:
    """`-f -` reads stdin's bytes: a CRLF manifest piped in is printed with CRLF, as a file is; non-UTF-8
    input is one error line, exit 2."""
    import subprocess
    import sys

    text = b"kind: ConfigMap\r\ndata: {a: '1'}\r\n"
    proc = subprocess.run([sys.executable, "-m", "slimgo", "resolve", "-f", "-"], input=text, capture_output=True)
    assert (proc.returncode, proc.stdout) == (0, text), proc.stderr
    proc = subprocess.run([sys.executable, "-m", "slimgo", "resolve", "-f", "-"], input=b"kind: \xff\n",
                          capture_output=True)
    assert proc.returncode == 2 and proc.stderr.decode().strip() == "slimgo: error: stdin: not UTF-8 text"


def test_alias_follows_its_anchor() -> None:
    from ruamel.yaml import YAML

    m = _manifest("deployment.yaml")
    out = rewrite(m, sites(m), {ALPHA: "r/alpha@sha256:" + "c" * 64})
    deploy = next(YAML(typ="safe").load_all(out))
    pod = deploy["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == pod["initContainers"][0]["image"] == "r/alpha@sha256:" + "c" * 64


def test_bad_yaml_and_folded_references_are_bad_input() -> None:
    with pytest.raises(BadInput, match="broken.yaml: not valid YAML"):
        sites(Manifest("broken.yaml", "a: [1, 2\nb: c\n"))
    with pytest.raises(BadInput, match="x.yaml:1: write ko://a/b on one line"):
        sites(Manifest("x.yaml", "image: >-\n  ko://a/b\n"))


@pytest.mark.parametrize("path", ["./cmd/api", "/src/cmd/api", "example.com/shop/cmd/...", "example.com/shop/cmd/api/",
                                  "example.com/shop/cmd/api@v1.2.3", "example.com/shop/cmd/../cmd/api",
                                  "example.com//cmd/api", "example.com/shop/cmd/api "])
def test_a_reference_that_is_not_one_import_path_is_refused_before_building(path: str) -> None:
    """The built images are keyed by the import path `go list` prints: a folder, a pattern, a version or
    an unclean path would build (and push) programs and then find no digest to pin (an internal error)."""
    with pytest.raises(BadInput, match=r"^x.yaml:2: ko://.*: not an import path \(write the program's full"):
        sites(Manifest("x.yaml", f"kind: Pod\nimage: 'ko://{path}'\n"))


def test_join_separates_files() -> None:
    assert join(["a: 1\n", "b: 2"]) == "a: 1\n---\nb: 2\n"


def test_resolve_without_references_prints_the_input_unchanged(tmp_path: Path) -> None:
    text = "# kept\nkind: ConfigMap   # as written\ndata: {a: '1'}\n"
    (tmp_path / "cm.yaml").write_text(text)
    r = run("resolve", "-f", str(tmp_path))
    assert (r.code, r.out) == (0, text), r.err


def test_resolve_json_carries_the_manifests_or_names_the_output_file(tmp_path: Path) -> None:
    import json

    text = "kind: ConfigMap\ndata: {a: '1'}   # no image here\n"
    (tmp_path / "cm.yaml").write_text(text)
    r = run("resolve", "-f", str(tmp_path / "cm.yaml"), "--json")
    doc = json.loads(r.out)  # stdout is the one document
    assert r.code == 0 and doc["schema_version"] == 1 and doc["manifests"] == text and doc["output"] is None
    assert doc["files"] == [{"name": str(tmp_path / "cm.yaml"), "references": []}] and doc["images"] == []
    r = run("resolve", "-f", str(tmp_path / "cm.yaml"), "--json", "-o", str(tmp_path / "out.yaml"))
    doc = json.loads(r.out)
    assert (doc["manifests"], doc["output"]) == (None, str(tmp_path / "out.yaml"))
    assert (tmp_path / "out.yaml").read_text() == text
    r = run("resolve", "-f", str(tmp_path / "cm.yaml"), "-o", str(tmp_path / "again.yaml"))  # text mode: file only
    assert (r.code, r.out, (tmp_path / "again.yaml").read_text()) == (0, "", text)
    r = run("resolve", "-f", str(tmp_path / "missing.yaml"), "--json")  # bad input: still one JSON document
    assert r.code == 2 and json.loads(r.out)["error"]["code"] == 2
    r = run("resolve", "-f", str(tmp_path / "cm.yaml"), "-o", str(tmp_path / "no" / "dir" / "x.yaml"))
    assert r.code == 2 and "x.yaml" in r.err


def test_resolve_bad_input_exits_2_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLIMGO_REPO", raising=False)
    assert run("resolve", "-f", str(tmp_path / "missing.yaml")).code == 2
    (tmp_path / "bad.yaml").write_text("image: [ko://a/b\n")
    r = run("resolve", "-f", str(tmp_path / "bad.yaml"))
    assert r.code == 2 and "bad.yaml: not valid YAML" in r.err
    (tmp_path / "ok.yaml").write_text("image: ko://example.com/x/cmd/y\n")
    r = run("resolve", "-f", str(tmp_path / "ok.yaml"))  # no --push and no $SLIMGO_REPO
    assert r.code == 2 and "--push" in r.err


def test_several_programs_refuse_one_image_flags_before_building(tmp_path: Path) -> None:
    r = run("build", "./a/...", "--tag", "x:1", "--push", "reg.example/p")
    assert r.code == 2 and "--tag names one image" in r.err
    r = run("build", "./a/...", "--tarball", tmp_path / "no" / "such" / "x.tar")
    assert r.code == 2 and "x.tar" in r.err  # the output is checked before `go list` runs
    r = run("build", "./a", "./b", "--jobs", "0", "--push", "reg.example/p")
    assert r.code == 2 and "--jobs" in r.err


def test_a_session_resolves_each_base_once_for_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from types import SimpleNamespace

    import slimgo.pipeline as pipeline

    calls: list[str] = []
    monkeypatch.setattr(pipeline, "choose_bases", lambda p, *_: calls.append(p.base_name) or p.base_name)
    session = pipeline.Session(pipeline.BuildRequest())
    plan = SimpleNamespace(base_name="registry.example/base:1", platforms=("linux/amd64",))
    seen: list[object] = []
    workers = [threading.Thread(target=lambda: seen.append(session.bases(plan, print))) for _ in range(4)]  # type: ignore[arg-type]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert calls == ["registry.example/base:1"] and seen == ["registry.example/base:1"] * 4


def test_a_base_that_could_not_be_resolved_fails_the_other_workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A remote base whose registry is down (every retry spent) fails every program: the next worker must get
    the same error without asking (and retrying) again, as the base would have been resolved once."""
    from types import SimpleNamespace

    import slimgo.pipeline as pipeline
    from slimgo.errors import RemoteError

    calls: list[str] = []

    def down(p: object, *_: object) -> object:
        calls.append("asked")
        raise RemoteError("docker.io: connection failed (ConnectionError) (after 6 tries)")

    monkeypatch.setattr(pipeline, "choose_bases", down)
    session = pipeline.Session(pipeline.BuildRequest())
    plan = SimpleNamespace(base_name="static-glibc", platforms=("linux/amd64",))
    for _ in range(3):
        with pytest.raises(RemoteError, match="docker.io: connection failed"):
            session.bases(plan, print)  # type: ignore[arg-type]
    assert calls == ["asked"]


def test_warmup_gate_runs_one_cold_build_per_platform_and_frees_it_once_warm() -> None:
    import threading

    from slimgo.gobuild.warmup import WarmupGate

    gate = WarmupGate()
    assert gate.take("amd64") is False and gate.take("arm64") is False  # cold and free: both taken at once
    waits: list[bool] = []
    waiter = threading.Thread(target=lambda: waits.append(gate.take("amd64")))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not waits  # a second cold amd64 build waits for the first
    gate.done("amd64", ok=False)  # a failed build warms nothing: the waiter becomes the cold build
    waiter.join(5)
    assert waits == [True]
    gate.done("amd64", ok=True)
    assert gate.take("amd64") is False and gate.take("amd64") is False  # warm: any number at once
    gate.done("amd64", ok=True)  # a warm key's done changes nothing
    assert gate.take("amd64") is False


def test_programs_of_one_name_are_not_built_together(tmp_path: Path) -> None:
    """`go build -o DIR/` silently lets two programs of one binary name overwrite each other: only the first
    of a name joins its module's combined build; a module with one program, and remote programs, build alone."""
    from slimgo.gobuild.batch import Batches, Program
    from slimgo.gobuild.build import GoProcesses
    from slimgo.gobuild.target import Target

    mod, other = tmp_path / "mod", tmp_path / "other"
    paths = ["example.com/m/a/api", "example.com/m/b/api", "example.com/m/cmd/web/v2", "example.com/o/cmd/solo"]
    batches = Batches([Program(p, other if "/o/" in p else mod) for p in paths], tmp_path / "out", GoProcesses(),
                      lambda _: None)

    def target(pkg: str, root: Path | None = mod) -> Target:
        return Target(package=pkg, name=pkg.rsplit("/", 1)[1], package_dir=tmp_path, module_root=root)

    assert batches.covers(target("example.com/m/a/api")) and batches.covers(target("example.com/m/cmd/web/v2"))
    assert not batches.covers(target("example.com/m/b/api"))  # second "api": alone
    assert not batches.covers(target("example.com/o/cmd/solo", other))  # alone in its module
    assert not batches.covers(Target(package="example.com/m/a/api", name="api", version="v1.0.0"))  # remote


def test_a_binary_still_being_copied_is_not_taken(tmp_path: Path) -> None:
    """A waiting program takes its binary while the combined build still runs only once the file reaches
    the end of its last section (Go copies instead of renaming into a setgid directory)."""
    import struct

    from slimgo.gobuild.slotfile import whole as _whole

    head = bytearray(64)
    head[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", head, 0x28, 64)  # section headers right after the ELF header, as Go writes them
    struct.pack_into("<HH", head, 0x3A, 64, 3)
    sections = bytearray(3 * 64)
    struct.pack_into("<IIQQQQ", sections, 64, 1, 1, 0, 0, 256, 100)  # PROGBITS at 256, 100 bytes
    struct.pack_into("<IIQQQQ", sections, 128, 1, 8, 0, 0, 356, 4096)  # NOBITS: no room in the file
    whole = bytes(head + sections) + bytes(256 - 64 - 192) + bytes(100)
    for size, expected in ((len(whole), True), (len(whole) - 1, False), (200, False), (10, False)):
        (tmp_path / "bin").write_bytes(whole[:size])
        assert _whole(tmp_path / "bin") is expected, size


def test_go_output_name_is_the_file_go_build_writes_in_an_output_directory() -> None:
    """cmd/go's DefaultExecName: a major version v2, v3… names its parent; v0, v1 and v02 are names of their own."""
    from slimgo.gobuild.target import go_output_name

    cases = {"example.com/m/cmd/foo": "foo", "example.com/m/v2": "m", "example.com/m/cmd/v10": "cmd",
             "example.com/m/q/v1": "v1", "example.com/m/v0": "v0", "example.com/m/v02": "v02", "hello": "hello"}
    assert {pkg: go_output_name(pkg) for pkg in cases} == cases
