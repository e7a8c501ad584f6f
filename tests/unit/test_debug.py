"""Debug images without Docker or Go: flags, entrypoint, path mapping, editor configs, Delve cache and layer."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from slimgo import config
from slimgo.binary.buildinfo import BuildInfo, Module, is_debug_build
from slimgo.debug import delve
from slimgo.debug.image import (
    DebugSettings,
    debug_flags,
    debug_image_delve,
    entrypoint,
    labels,
)
from slimgo.debug.launch import ClientConfig, PathRule, escape_module_path, path_rules
from slimgo.debug.plan import DebugPlan
from slimgo.errors import BadInput
from slimgo.gobuild.build import BuiltBinary
from slimgo.gobuild.toolchain import Toolchain
from slimgo.oci.cache import LayerCache
from slimgo.oci.model import ImageConfig
from slimgo.platform import Platform
from slimgo.stages.assemble import shared_layer
from slimgo.strategy import DEFAULT

GOROOT = "/opt/go"
MODCACHE = "/home/dev/go/pkg/mod"


def test_debug_flags_keep_symbols_and_user_ldflags() -> None:
    flags = debug_flags(DEFAULT.flags.with_user(ldflags="-X main.version=1"), None)
    assert flags.ldflags == "-X main.version=1"
    assert flags.gcflags == "all=-N -l" and flags.trimpath and flags.cgo is False
    assert "-gcflags=all=-N -l" in flags.go_args()


@pytest.mark.parametrize("ldflags", ["-s", "-w", "-X a=b -s=true"])
def test_debug_refuses_stripping_ldflags(ldflags: str) -> None:
    with pytest.raises(BadInput, match="strip"):
        debug_flags(DEFAULT.flags.with_user(ldflags=ldflags), None)


def test_debug_refuses_user_gcflags() -> None:
    with pytest.raises(BadInput, match="--gcflags"):
        debug_flags(DEFAULT.flags, "-m")


def test_debug_allows_undoing_strip() -> None:
    assert debug_flags(DEFAULT.flags.with_user(ldflags="-s=false"), None).ldflags == "-s=false"


@pytest.mark.parametrize("value,expected", [("all=-N -l", True), ("-N -l", True), ("main=-l -N", True),
                                            ("all=-l", False), ("", False), ("-m", False)])
def test_is_debug_build(value: str, expected: bool) -> None:
    assert is_debug_build({"-gcflags": value} if value else {}) is expected


def test_entrypoint_waits_or_continues() -> None:
    wait = entrypoint("svc", "app", DebugSettings("v1.2.3"))
    assert wait == ["/usr/local/bin/dlv", "exec", "--headless", "--listen=:2345", "--api-version=2",
                    "--accept-multiclient", "/app/svc", "--"]
    assert entrypoint("svc", "app", DebugSettings("v1.2.3", continue_=True))[6] == "--continue"
    assert labels(DebugSettings("v1.2.3")) == {"dev.slimgo.debug": "true", "dev.slimgo.debug.delve": "v1.2.3"}


def test_delve_check() -> None:
    delve.check("v1.27.2", [Platform.parse("linux/amd64"), Platform.parse("linux/arm64")])
    with pytest.raises(BadInput, match="release version"):
        delve.check("latest", [])
    with pytest.raises(BadInput, match="linux/s390x"):
        delve.check("v1.27.2", [Platform.parse("linux/s390x")])


def test_delve_cache_key_names_every_input() -> None:
    tc = Toolchain("go", "go1.26.8", "linux", "amd64", GOROOT)
    key = delve.cache_key("v1.27.2", Platform.parse("linux/arm64"), tc)
    assert "v1.27.2" in key and "arm64" in key and "go1.26.8" in key and "/" not in key
    other = Toolchain("go", "go1.26.9", "linux", "amd64", GOROOT)
    assert delve.cache_key("v1.27.2", Platform.parse("linux/arm64"), other) != key


def test_file_cache_roundtrip_and_corruption(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    src = tmp_path / "dlv"
    src.write_bytes(b"\x7fELF pretend delve")
    assert cache.get_file("k") is None
    stored = cache.put_file("k", src)
    assert stored != src and stored.read_bytes() == src.read_bytes()
    assert cache.get_file("k") == stored
    stored.write_bytes(b"tampered")
    assert cache.get_file("k") is None  # verified against its digest on every read


def _seeded_plan(tmp_path: Path) -> tuple[DebugPlan, Platform]:
    """A DebugPlan whose cache already holds a (stand-in) Delve, so no Go build runs."""
    cache = LayerCache(tmp_path / "cache")
    amd64 = Platform.parse("linux/amd64")
    plan = DebugPlan.create(True, False, None, Toolchain("go", "go1.26.8", "linux", "amd64", GOROOT), (amd64,), cache)
    assert plan is not None
    dlv = tmp_path / "dlv"
    dlv.write_bytes(b"\x7fELF" + bytes(range(256)) * 64)
    cache.put_file(plan.cache_key(amd64), dlv)
    return plan, amd64


def test_delve_layer_is_reproducible_and_shared(tmp_path: Path) -> None:
    plan, amd64 = _seeded_plan(tmp_path)
    a = shared_layer(plan, amd64, tmp_path, tmp_path / "a", None, "gzip", 6)
    b = shared_layer(plan, amd64, tmp_path, tmp_path / "b", None, "gzip", 6)
    assert a.digest == b.digest and a.path.read_bytes() == b.path.read_bytes() and a.comment == "delve v1.27.2"
    with tarfile.open(a.path) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["usr", "usr/local", "usr/local/bin", "usr/local/bin/dlv"]
    assert all(m.mtime == 0 for m in members) and members[-1].mode == 0o755
    layers = LayerCache(tmp_path / "layers")
    first = shared_layer(plan, amd64, tmp_path, tmp_path / "c", layers, "gzip", 6)
    again = shared_layer(plan, amd64, tmp_path, tmp_path / "d", layers, "gzip", 6)
    assert first.digest == again.digest == a.digest and again.path == first.path  # from the cache


def test_debug_plan_configures_the_image(tmp_path: Path) -> None:
    plan, amd64 = _seeded_plan(tmp_path)
    config = ImageConfig(platform=amd64.oci(), created="1970-01-01T00:00:00Z", entrypoint=["/app/svc"],
                         labels={"org.opencontainers.image.title": "svc"})
    binary = BuiltBinary(tmp_path / "svc", "svc", amd64, DEFAULT.flags, 0.0, 0)
    plan.configure(config, binary, "app")
    assert config.entrypoint is not None and config.entrypoint[0] == "/usr/local/bin/dlv"
    assert config.entrypoint[-2:] == ["/app/svc", "--"]
    assert config.labels["dev.slimgo.debug"] == "true" and config.labels["org.opencontainers.image.title"] == "svc"
    assert config.exposed_ports == ["2345/tcp"]
    with pytest.raises(BadInput, match="--platform all"):
        DebugPlan.create(True, False, None, Toolchain("go", "go1.26.8", "linux", "amd64", GOROOT), (), None)


def _info(*deps: Module, main_version: str = "(devel)") -> BuildInfo:
    return BuildInfo("go1.26.8", "example.com/svc/cmd/svc", Module("example.com/svc", main_version), list(deps))


def test_path_rules_for_a_trimpath_build(tmp_path: Path) -> None:
    info = _info(Module("github.com/BurntSushi/toml", "v1.3.2"),
                 Module("example.com/svc/internal/x", "v0.1.0"),
                 Module("golang.org/x/net", "v0.20.0", replace=Module("golang.org/x/net", "v0.21.0")),
                 Module("example.com/lib", "v1.0.0", replace=Module("../lib")))
    rules = path_rules(info, trimpath=True, module_root=tmp_path / "svc", goroot=GOROOT, gomodcache=MODCACHE)
    assert rules[-1] == PathRule("/opt/go/src", "")  # the standard library's relative paths, tried last
    by_remote = {r.remote: r.local for r in rules}
    assert by_remote["example.com/svc"] == str(tmp_path / "svc")
    assert by_remote["github.com/BurntSushi/toml@v1.3.2"] == f"{MODCACHE}/github.com/!burnt!sushi/toml@v1.3.2"
    assert by_remote["golang.org/x/net@v0.20.0"] == f"{MODCACHE}/golang.org/x/net@v0.21.0"
    assert by_remote["example.com/lib@v1.0.0"] == str(tmp_path / "lib")
    remotes = [r.remote for r in rules]
    assert remotes.index("example.com/svc/internal/x@v0.1.0") < remotes.index("example.com/svc")


def test_path_rules_for_a_remote_target_and_without_trimpath() -> None:
    info = _info(main_version="v2.26.0")
    rules = path_rules(info, trimpath=True, module_root=None, goroot=GOROOT, gomodcache=MODCACHE)
    assert rules[0] == PathRule(f"{MODCACHE}/example.com/svc@v2.26.0", "example.com/svc@v2.26.0")
    assert path_rules(info, trimpath=False, module_root=None, goroot=GOROOT, gomodcache=MODCACHE) == ()
    assert escape_module_path("github.com/Azure/Go") == "github.com/!azure/!go"


def test_client_configs(tmp_path: Path) -> None:
    client = ClientConfig("svc", (PathRule("/src/svc", "example.com/svc"), PathRule("/opt/go/src", "")))
    doc = client.launch_json()
    conf = doc["configurations"][0]
    assert (conf["type"], conf["request"], conf["mode"], conf["host"], conf["port"]) == \
        ("go", "attach", "remote", "127.0.0.1", 2345)
    assert conf["substitutePath"] == [{"from": "/src/svc", "to": "example.com/svc"}, {"from": "/opt/go/src", "to": ""}]
    # The terminal client maps the other way: recorded prefix first, local directory second.
    assert client.dlv_init() == ('config substitute-path "example.com/svc" "/src/svc"\n'
                                 'config substitute-path "" "/opt/go/src"\n')
    assert client.dlv_connect("cfg/dlv-init") == "dlv connect 127.0.0.1:2345 --init cfg/dlv-init"
    written = client.write(tmp_path / ".vscode")
    assert [p.name for p in written] == ["launch.json", "dlv-init"]
    assert json.loads(written[0].read_text()) == doc
    plain = ClientConfig("svc", ())
    assert "substitutePath" not in plain.launch_json()["configurations"][0]
    assert plain.dlv_connect("x") == "dlv connect 127.0.0.1:2345"


def test_config_debug_keys(tmp_path: Path) -> None:
    (tmp_path / ".slimgo.yaml").write_text("build:\n  debug: true\n  delve_version: v1.26.0\n  trimpath: false\n")
    build = config.load(tmp_path).build
    assert build.debug is True and build.delve_version == "v1.26.0" and build.trimpath is False
    (tmp_path / ".slimgo.yaml").write_text("build:\n  debug: yes-please\n")
    with pytest.raises(BadInput, match="debug"):
        config.load(tmp_path)


@pytest.mark.parametrize("config,expected", [
    ({"config": {"Labels": {"dev.slimgo.debug": "true", "dev.slimgo.debug.delve": "v1.27.2"}}}, "v1.27.2"),
    ({"config": {"Labels": {"dev.slimgo.debug": "false"}}}, None),
    ({"config": {"Labels": ["dev.slimgo.debug"]}}, None),
    ({"config": None}, None),
    (["not", "a", "config"], None),
])
def test_debug_image_label_reading_survives_hostile_configs(config: object, expected: str | None) -> None:
    assert debug_image_delve(config) == expected
