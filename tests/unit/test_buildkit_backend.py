"""`--builder`: address forms, the compile-only Dockerfile, reading buildctl's progress, and the refusals that
come before any work. The builds themselves run against a real buildkitd in the integration tier."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from slimgo.buildkit.address import parse
from slimgo.buildkit.client import Buildctl, BuildLog, failure
from slimgo.buildkit.compiler import BuildKitCompiler
from slimgo.buildkit.dockerfile import CompileSpec, ignore_file, render
from slimgo.errors import BadInput, CompileError, RemoteError, ToolMissing
from slimgo.gobuild.backend import LOCAL, compiler_for
from slimgo.gobuild.build import classify_failure
from slimgo.gobuild.target import Target
from slimgo.strategy import GoFlags
from tests.support.cli import run

LOGS = Path(__file__).resolve().parents[1] / "data" / "buildkit"  # real buildctl --progress plain output


@pytest.mark.parametrize(("given", "addr"), [
    ("buildkit://buildkitd:1234", "tcp://buildkitd:1234"),
    ("tcp://10.0.0.5:8372", "tcp://10.0.0.5:8372"),
    ("unix:///run/buildkit/buildkitd.sock", "unix:///run/buildkit/buildkitd.sock"),
    ("docker-container://buildx_buildkit_fleet0", "docker-container://buildx_buildkit_fleet0"),
    ("kube-pod://buildkitd-0?namespace=ci", "kube-pod://buildkitd-0?namespace=ci"),
])
def test_builder_addresses(given: str, addr: str) -> None:
    assert parse(given).buildctl_args() == ["--addr", addr]


def test_buildx_remote_driver_tls_options_become_buildctl_flags(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    given = (f"tcp://fleet:1234?cacert={tmp_path}/ca.pem&cert={tmp_path}/cert.pem&key={tmp_path}/key.pem"
             "&servername=buildkitd")
    assert parse(given).buildctl_args() == [
        "--addr", "tcp://fleet:1234", "--tlscacert", f"{tmp_path}/ca.pem", "--tlscert", f"{tmp_path}/cert.pem",
        "--tlskey", f"{tmp_path}/key.pem", "--tlsservername", "buildkitd"]


@pytest.mark.parametrize(("given", "words"), [
    ("buildkitd:1234", "expected buildkit://HOST:PORT"),
    ("http://buildkitd:1234", "unknown scheme http://"),
    ("tcp://buildkitd", "needs HOST:PORT"),
    ("tcp://buildkitd:port", "needs HOST:PORT"),
    ("unix://", "no host, path or name"),
    ("buildkit://", "no host, path or name after buildkit://"),  # the alias typed, not tcp://
    ("tcp://h:1?insecure=1", "unknown option 'insecure'"),
    ("tcp://h:1?cacert=/nonexistent/ca.pem", "cacert=/nonexistent/ca.pem: no such file"),
])
def test_bad_builder_addresses_are_bad_input(given: str, words: str) -> None:
    with pytest.raises(BadInput, match=words.replace("?", r"\?").replace("+", r"\+")) as err:
        parse(given)
    assert err.value.exit_code == 2 and "\n" not in str(err.value)


def test_compile_dockerfile_runs_the_local_go_build_without_a_shell() -> None:
    flags = GoFlags().with_user(ldflags="-X 'main.greeting=hello world' -X main.cost=$5", tags=("netgo",))
    text = render(CompileSpec("golang:1.26.8", "cmd/api", "api",
                              (("CGO_ENABLED", "0"), ("GOARCH", "arm64"), ("GOFLAGS", "-mod=vendor -tags=a b")),
                              tuple(flags.go_args())))
    run_line = text.split("RUN ", 1)[1].split("\n\n")[0]
    exec_form = json.loads(run_line.split("\\\n", 1)[1])
    assert exec_form == ["go", "build", "-trimpath", "-ldflags=-s -w -X 'main.greeting=hello world' "
                         "-X main.cost=$5", "-tags=netgo", "-o", "/out/api", "."]
    assert "--mount=type=bind,target=/src" in run_line
    # the cache mounts `slimgo dockerfile` writes, so a fleet shares one warm cache between both
    assert "--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build" in run_line
    assert 'GOFLAGS="-mod=vendor -tags=a b"' in text and 'GOCACHE="/root/.cache/go-build"' in text
    assert 'WORKDIR "/src/cmd/api"' in text
    assert "ARG BUILDER_IMAGE=golang:1.26.8\nFROM --platform=$BUILDPLATFORM ${BUILDER_IMAGE} AS compile" in text
    assert text.rstrip().endswith("FROM scratch\nCOPY --from=compile /out/api /api")


def test_env_values_are_quoted_against_splitting_and_expansion() -> None:
    text = render(CompileSpec("img", ".", "x", (("GOFLAGS", 'a "b" $HOME \\c'),), ()))
    assert 'GOFLAGS="a \\"b\\" \\$HOME \\\\c"' in text
    assert 'WORKDIR "/src"' in text


def test_ignore_file_keeps_the_users_patterns_and_decides_about_git() -> None:
    assert ignore_file("", send_git=False) == ".git\n"
    assert ignore_file("node_modules\n*.log\n", send_git=False) == "node_modules\n*.log\n.git\n"
    # VCS stamping reads the repository: a user's `.git` line is overridden, last pattern wins
    assert ignore_file(".git\ndist\n", send_git=True) == ".git\ndist\n!.git\n!.git/**\n"


def _log(name: str) -> BuildLog:
    log = BuildLog()
    progress = [m for line in (LOGS / name).read_text().splitlines() if (m := log.feed(line))]
    log.returncode = 1
    assert progress and all(m.startswith("BuildKit: [") for m in progress)
    return log


def test_a_failed_go_build_reads_like_the_local_one() -> None:
    log = _log("compile-error.log")
    assert log.failed_in_run()
    assert log.step_output() == "# example.com/bad\n./main.go:3:15: undefined: x"
    target = Target(package="example.com/bad", name="bad", package_dir=Path("/nonexistent"))
    err = classify_failure(log.step_output(), target)
    assert isinstance(err, CompileError) and err.exit_code == 1
    assert str(err) == "compile error in example.com/bad: ./main.go:3:15: undefined: x"


def test_a_builder_image_that_is_not_there_is_bad_input() -> None:
    log = _log("image-not-found.log")
    assert not log.failed_in_run()
    err = failure(log, parse("tcp://b:1"), "registry.example:5000/go:0.0")
    assert isinstance(err, BadInput) and err.exit_code == 2
    assert str(err) == ("builder image registry.example:5000/go:0.0: not found (buildkitd must be able to pull "
                        "it; see --builder-image)")


def test_a_builder_that_goes_away_mid_build_is_a_remote_failure() -> None:
    log = BuildLog()
    log.feed('error: failed to solve: Unavailable: connection error: desc = "transport: Error while dialing: '
             'dial tcp 10.0.0.5:1234: connect: connection refused"')
    err = failure(log, parse("buildkit://10.0.0.5:1234"), "golang:1.26.8")
    assert isinstance(err, RemoteError) and err.exit_code == 3
    assert str(err).startswith("builder buildkit://10.0.0.5:1234 is unreachable: failed to solve: Unavailable")


def test_buildctl_is_required(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing, match=r"--builder needs BuildKit's client `buildctl`") as err:
        Buildctl.find(parse("tcp://b:1"), {"PATH": str(tmp_path)})
    assert err.value.exit_code == 2


def test_a_slimgo_buildctl_that_is_not_there_is_named(tmp_path: Path) -> None:
    """"install buildctl" sent a user with a typo in $SLIMGO_BUILDCTL to install what they already had."""
    with pytest.raises(ToolMissing, match=r"^\$SLIMGO_BUILDCTL=/no/such/buildctl: no such file") as err:
        Buildctl.find(parse("tcp://b:1"), {"SLIMGO_BUILDCTL": "/no/such/buildctl", "PATH": str(tmp_path)})
    assert err.value.exit_code == 2


def test_builder_image_without_builder_is_refused() -> None:
    assert compiler_for(None, None) is LOCAL
    with pytest.raises(BadInput, match="--builder-image .* needs --builder"):
        compiler_for(None, "golang:1.26")


def test_what_a_builder_cannot_build_like_this_machine_is_refused() -> None:
    compiler = BuildKitCompiler("tcp://b:1", Buildctl("buildctl", parse("tcp://b:1")), None)
    with pytest.raises(BadInput, match="module@version target"):
        compiler.check(Target(package="example.com/x", name="x", version="v1.0.0"), GoFlags())
    with pytest.raises(BadInput, match="CGO_ENABLED=0"):
        compiler.check(Target(package="example.com/x", name="x", package_dir=Path(".")), GoFlags(cgo=True))


def test_cli_checks_the_builder_before_compiling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIMGO_BUILDCTL", str(tmp_path / "no-buildctl"))
    missing = run("build", str(tmp_path), "--builder", "buildkit://127.0.0.1:1", "--json")
    assert missing.code == 2
    assert missing.json()["error"]["message"] == (
        f"$SLIMGO_BUILDCTL={tmp_path / 'no-buildctl'}: no such file (it names BuildKit's client, buildctl)")
    bad = run("build", str(tmp_path), "--builder", "buildkitd:1234")
    assert bad.code == 2 and "--builder 'buildkitd:1234': expected buildkit://HOST:PORT" in bad.err
    assert not (tmp_path / "dist").exists()


def test_git_is_sent_exactly_when_a_local_build_would_stamp_vcs(tmp_path: Path) -> None:
    from slimgo.buildkit.compiler import vcs_root_of
    from slimgo.gobuild.toolchain import find_toolchain

    go = find_toolchain()
    auto = {"GOFLAGS": "-buildvcs=auto"}
    plain = tmp_path / "plain"
    plain.mkdir()
    assert vcs_root_of(plain, go, plain, auto) == (None, None)

    repo = tmp_path / "repo"
    (repo / "cmd" / "api").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "go.mod").write_text("module example.com/r\n\ngo 1.22\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "r"], check=True)
    assert vcs_root_of(repo, go, repo / "cmd" / "api", auto) == (repo, None)
    assert vcs_root_of(repo, go, repo, {"GOFLAGS": "-buildvcs=false"}) == (None, None)

    linked = tmp_path / "linked"
    subprocess.run([*git, "worktree", "add", "-q", str(linked)], check=True)
    root, note = vcs_root_of(linked, go, linked, auto)
    assert root is None and note is not None and "linked git worktree" in note


def test_each_platforms_buildkit_lines_say_whose_they_are() -> None:
    """Two platforms' builds print the same `[compile 3/3] RUN …` titles at once; untagged they could not be
    told apart."""
    from slimgo.buildkit.compiler import platform_progress
    from slimgo.platform import Platform

    seen: list[str] = []
    tagged = platform_progress(seen.append, Platform.parse("linux/arm64"))
    assert tagged is not None
    log = BuildLog()
    message = log.feed("#7 [compile 3/3] RUN go build")
    assert message is not None
    tagged(message)
    assert seen == ["BuildKit linux/arm64: [compile 3/3] RUN go build"]
    assert platform_progress(None, Platform.parse("linux/arm64")) is None


def test_buildctl_output_is_read_in_bounded_lines_and_kept_within_a_budget(tmp_path: Path) -> None:
    """buildctl relays what a remote builder prints: a 32 MiB line with no newline, or endless step output,
    must not be held whole (the error and the failed step are still found)."""
    import sys

    from slimgo.buildkit import client

    script = tmp_path / "buildctl"
    script.write_text(f"#!{sys.executable}\n"
                      "import sys\n"
                      "w = sys.stderr.write\n"
                      "w('#1 [compile 1/1] RUN go build\\n')\n"
                      "w('#1 0.1 ' + 'x' * (32 << 20) + '\\n')\n"  # one huge line
                      "for i in range(3000):\n"
                      "    w('#1 0.2 ' + 'y' * 4000 + '\\n')\n"  # 12 MB of step output
                      "w('#1 ERROR: process did not complete successfully\\n')\n"
                      "w('error: failed to solve: process \"go build\" did not complete successfully: exit code: 1\\n')\n"
                      "sys.exit(1)\n")
    script.chmod(0o755)
    log = Buildctl(str(script), parse("tcp://b:1")).build(tmp_path, tmp_path, tmp_path / "out", "golang:1", None)
    assert log.returncode == 1 and log.failed_step == "1" and log.failed_in_run()
    lines = log.output["1"]
    assert lines[0] == "x" * (client.MAX_LINE - len("#1 0.1 "))  # cut at the line limit, its rest dropped
    assert all(set(line) == {"y"} for line in lines[1:])  # the rest never read as lines of their own
    assert log.kept <= client.MAX_KEPT and sum(map(len, lines)) <= client.MAX_KEPT


@pytest.mark.timeout(60)
def test_one_platforms_failure_is_reported_at_once_and_stops_the_others(tmp_path: Path) -> None:
    """Two platforms built at once: arm64's compile error waited for amd64's whole build (results were read in
    order), and a buildctl started after the stop ran on. The fake amd64 build never ends by itself."""
    import os
    import sys

    from slimgo.gobuild.toolchain import find_toolchain
    from slimgo.platform import Platform
    from slimgo.strategy import DEFAULT

    pid_file = tmp_path / "amd64.pid"
    script = tmp_path / "buildctl"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, signal, sys\n"
        "if any('dockerfile-linux_arm64' in a for a in sys.argv):\n"
        "    w = sys.stderr.write\n"
        "    w('#5 [compile 3/3] RUN go build\\n')\n"
        "    w('#5 0.4 ./main.go:3:1: syntax error: non-declaration statement outside function body\\n')\n"
        "    w('#5 ERROR: process \"go build\" did not complete successfully: exit code: 1\\n')\n"
        "    w('error: failed to solve: process \"go build\" did not complete successfully: exit code: 1\\n')\n"
        "    sys.exit(1)\n"
        f"open({str(pid_file)!r} + '.tmp', 'w').write(str(os.getpid()))\n"  # whole or absent: it may be
        f"os.replace({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"  # stopped between open and write
        "signal.pause()\n")
    script.chmod(0o755)
    mod = tmp_path / "m"
    mod.mkdir()
    (mod / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (mod / "main.go").write_text("package main\n\nfunc main() {}\n")
    target = Target("example.com/m", "m", package_dir=mod, module_root=mod, module_path="example.com/m")
    compiler = BuildKitCompiler("fake", Buildctl(str(script), parse("tcp://b:1")), "golang:fake")
    with pytest.raises(CompileError, match="syntax error"):
        compiler.compile(find_toolchain(), target, DEFAULT.flags,
                         (Platform.parse("linux/amd64"), Platform.parse("linux/arm64")), tmp_path / "out", None)
    if pid_file.exists():  # amd64's buildctl had started: it was stopped and reaped, not left running
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
