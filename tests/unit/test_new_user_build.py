"""Issue 11, the `build` points that are decided before any compile: platform from GOOS/GOARCH, --user
ranges, --data must be a directory, `.slimgo.yml`, `build.platforms` as a string, and Go's errors kept
whole (module proxy status, cgo under CGO_ENABLED=0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgo import config
from slimgo.errors import BadInput
from slimgo.gobuild.build import classify_failure
from slimgo.gobuild.target import Target

# What `go install github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v9.9.9` prints (Go 1.26).
PROXY_403 = ("go: github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v9.9.9: github.com/mccutchen/go-httpbin/v2/"
             "cmd/go-httpbin@v9.9.9: reading https://proxy.golang.org/github.com/mccutchen/go-httpbin/v2/cmd/"
             "go-httpbin/@v/v9.9.9.info: 403 Forbidden\n\tserver response: This module version is not available.\n")


@pytest.mark.parametrize("env,platforms,want", [
    ({"GOARCH": "arm64"}, None, ["linux/arm64"]),
    ({"GOOS": "linux", "GOARCH": "arm", "GOARM": "7", "CGO_ENABLED": "0"}, None, ["linux/arm/v7"]),
    ({"GOAMD64": "v3"}, None, None),
])
def test_goos_goarch_in_env_become_the_platform(env: dict[str, str], platforms: list[str] | None,
                                                want: list[str] | None) -> None:  # point 1
    rest, got = config.platform_from_env(env, platforms)
    assert got == want
    assert not {"GOOS", "GOARCH", "GOARM"} & set(rest)


@pytest.mark.parametrize("env,platforms,needle", [
    ({"GOOS": "windows"}, None, "slimgo builds Linux images; use --platform"),
    ({"GOARCH": "arm64"}, ["linux/amd64"], "conflicts with --platform"),
    ({"GOARM": "7"}, None, "--platform linux/ARCH"),
])
def test_goos_goarch_that_cannot_be_a_platform_are_refused(env: dict[str, str], platforms: list[str] | None,
                                                           needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        config.platform_from_env(env, platforms)


@pytest.mark.parametrize("user", ["-5", "5:-1", "4294967296", "0:", "a:b:c", "bad name"])
def test_user_out_of_range_is_refused(user: str) -> None:  # point 9
    with pytest.raises(BadInput, match="--user"):
        config.check_user(user)


@pytest.mark.parametrize("user", ["0", "65532:65532", "nonroot", "app:staff", "2147483647"])
def test_valid_users_pass(user: str) -> None:
    assert config.check_user(user) == user


def test_data_must_be_a_directory(tmp_path: Path) -> None:  # point 9
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(BadInput, match="is a file; --data takes a directory"):
        config.check_data_dir(f)
    with pytest.raises(BadInput, match="no such directory"):
        config.check_data_dir(tmp_path / "missing")
    assert config.check_data_dir(tmp_path) == tmp_path


def test_slimgo_yml_is_read_and_platforms_may_be_a_string(tmp_path: Path) -> None:  # rough edges
    (tmp_path / ".slimgo.yml").write_text("build:\n  platforms: linux/amd64, linux/arm64\n  user: '1000:1000'\n")
    cfg = config.load(tmp_path)
    assert cfg.path == tmp_path / ".slimgo.yml"
    assert cfg.build.platforms == ["linux/amd64", "linux/arm64"] and cfg.build.user == "1000:1000"
    (tmp_path / ".slimgo.yaml").write_text("build: {}\n")
    with pytest.raises(BadInput, match="both .slimgo.yaml and .slimgo.yml"):
        config.load(tmp_path)


def test_config_user_is_validated(tmp_path: Path) -> None:
    (tmp_path / ".slimgo.yaml").write_text("build:\n  user: '-5'\n")
    with pytest.raises(BadInput, match="build.user '-5'"):
        config.load(tmp_path)


def test_module_proxy_errors_keep_module_version_and_status() -> None:  # point 15
    target = Target(package="github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin", name="go-httpbin",
                    version="v9.9.9")
    err = classify_failure(PROXY_403, target)
    assert isinstance(err, BadInput)
    assert err.message == ("cannot build github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v9.9.9: "
                           "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v9.9.9: the module proxy answered "
                           "403 Forbidden (This module version is not available.)")


def test_a_package_missing_from_a_module_version_is_named_once() -> None:
    """Go starts its line with the module@version the message already names: said once, not twice."""
    target = Target(package="golang.org/x/tools/cmd/nosuch", name="nosuch", version="v0.28.0")
    stderr = ("go: golang.org/x/tools/cmd/nosuch@v0.28.0: module golang.org/x/tools@v0.28.0 found, but does not "
              "contain package golang.org/x/tools/cmd/nosuch\n")
    err = classify_failure(stderr, target)
    assert isinstance(err, BadInput)
    assert err.message == ("cannot build golang.org/x/tools/cmd/nosuch@v0.28.0: module golang.org/x/tools@v0.28.0 "
                           "found, but does not contain package golang.org/x/tools/cmd/nosuch")


def test_cgo_package_under_cgo_off_says_how_to_turn_cgo_on(tmp_path: Path) -> None:  # point 16
    (tmp_path / "main.go").write_text('package main\n\n// #include <stdio.h>\nimport "C"\n\nfunc main() {}\n')
    target = Target(package="example.com/c", name="c", package_dir=tmp_path, module_root=tmp_path)
    stderr = f"package example.com/c: build constraints exclude all Go files in {tmp_path}\n"
    err = classify_failure(stderr, target, cgo_off=True)
    assert 'uses cgo (import "C" in main.go)' in err.message and "--env CGO_ENABLED=1" in err.message
    assert "uses cgo" not in classify_failure(stderr, target, cgo_off=False).message


def test_generated_dockerfile_header_names_the_flags_it_builds_with(tmp_path: Path) -> None:  # wording
    from slimgo.dockerfile.generate import render
    from slimgo.dockerfile.project import GoRelease, ModuleFacts
    from slimgo.dockerfile.runtime import DEFAULT_RUNTIME, Runtime

    facts = ModuleFacts(tmp_path, ".", ".", "app", GoRelease("1.22", "go 1.22"), ((".", ("go.mod",)),), False, False)
    text = render(facts, Runtime(DEFAULT_RUNTIME, "distroless static"))
    header = text.splitlines()[0]
    assert '-ldflags="-s -w"' in header
    assert 'ldflags="-s -w"' in text.split("\n", 1)[1]  # the RUN line says the same


def test_a_compile_error_keeps_gos_report_without_the_package_progress_lines(tmp_path: Path) -> None:
    target = Target(package="example.com/bad", name="bad", package_dir=tmp_path, module_root=tmp_path)
    stderr = ("internal/goarch\nexample.com/bad\n# example.com/bad\n"
              "./main.go:2:14: declared and not used: x\n")
    err = classify_failure(stderr, target)
    assert err.message == "compile error in example.com/bad: ./main.go:2:14: declared and not used: x"
    assert err.detail == "# example.com/bad\n./main.go:2:14: declared and not used: x"


def test_a_compile_error_names_files_from_where_the_user_stands(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Go runs in the package directory and says `../../lib/x.go`; the user asked from the module root, where
    `go build ./cmd/app` would say `lib/x.go` (and names the package that failed, not the program)."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "x.go").write_text("package lib\n")
    (tmp_path / "cmd" / "app").mkdir(parents=True)
    target = Target(package="example.com/m/cmd/app", name="app", package_dir=tmp_path / "cmd" / "app",
                    module_root=tmp_path)
    stderr = "# example.com/m/lib\n../../lib/x.go:3:1: syntax error: unexpected }\n"
    monkeypatch.chdir(tmp_path)
    err = classify_failure(stderr, target)
    assert err.message == "compile error in example.com/m/lib: lib/x.go:3:1: syntax error: unexpected }"
    monkeypatch.chdir(tmp_path / "lib")
    assert classify_failure(stderr, target).message.endswith(": ./x.go:3:1: syntax error: unexpected }")
    monkeypatch.chdir(tmp_path / "cmd")  # not below the user's directory: the absolute path, as Go does
    assert f": {tmp_path / 'lib' / 'x.go'}:3:1:" in classify_failure(stderr, target).message
