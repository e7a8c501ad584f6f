"""What a rule is, what it finds, and the facts about a Dockerfile that several rules share."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from ..parse import Dockerfile, Instruction, Stage, shell_words, unquote

T = TypeVar("T")
SEVERITIES = ("error", "warning", "info", "style")
MAX_CHAIN = 16


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    line: int
    message: str
    hint: str
    file: str
    end_line: int = 0

    def __post_init__(self) -> None:
        # messages quote the Dockerfile, which may hold bytes that are not UTF-8: keep output encodable
        for name in ("message", "hint", "file"):
            value = getattr(self, name)
            if any("\udc80" <= c <= "\udcff" for c in value):
                object.__setattr__(self, name, value.encode("utf-8", "replace").decode("utf-8"))
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": self.severity, "line": self.line, "end_line": self.end_line,
                "message": self.message, "hint": self.hint, "file": self.file}


@dataclass
class Context:
    """A Dockerfile plus where it lives (for .dockerignore) and derived facts shared by rules.

    Stage chains (FROM <earlier stage>) are resolved once, in stage order, and memoised: rules ask for
    them per stage and per instruction, and a hostile file with thousands of chained stages must stay linear.
    """

    df: Dockerfile
    directory: Path | None  # the build context, when known
    dockerfile_dir: Path | None = None
    arg_defaults: dict[str, str] = field(default_factory=dict)
    _parent: list[int] = field(default_factory=list, repr=False)
    _root: dict[int, str] = field(default_factory=dict, repr=False)
    _env: dict[int, dict[str, str]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    def memo(self, key: tuple[str, int], compute: Callable[[], T]) -> T:
        """Facts several rules ask for, computed once per Dockerfile."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]  # the key names what compute returns

    def __post_init__(self) -> None:
        for inst in self.df.global_args:
            for name, value in parse_assignments(inst.args, "ARG").items():
                self.arg_defaults[name] = value
        for stage in self.df.stages:
            parent = self.df.stage_by_name(self.resolved_base(stage))  # FROM build-${VARIANT} names a stage too
            self._parent.append(parent.index if parent is not None and parent.index < stage.index else -1)

    def resolved_base(self, stage: Stage) -> str:
        """The stage's FROM with global ARG defaults substituted."""
        def sub(m: re.Match[str]) -> str:
            return self.arg_defaults.get(m.group(1) or m.group(2)) or m.group(0)  # no default: stays unknown
        return re.sub(r"\$\{(\w+)[^}]*\}|\$(\w+)", sub, stage.base)

    def parent(self, stage: Stage) -> Stage | None:
        p = self._parent[stage.index]
        return self.df.stages[p] if p >= 0 else None

    def root_image(self, stage: Stage) -> str:
        """Follow FROM <stage> chains to the external image."""
        if stage.index not in self._root:
            # parents have lower indexes: resolving in index order keeps this iterative
            for s in self.df.stages[:stage.index + 1]:
                if s.index not in self._root:
                    p = self._parent[s.index]
                    self._root[s.index] = self._root[p] if p >= 0 else self.resolved_base(s)
        return self._root[stage.index]

    def stage_chain(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built FROM, nearest first (at most MAX_CHAIN: real files chain a
        handful; a hostile one with thousands must not make every rule quadratic)."""
        chain = [stage]
        while (p := self._parent[chain[-1].index]) >= 0 and len(chain) < MAX_CHAIN:
            chain.append(self.df.stages[p])
        return chain

    def stage_env(self, stage: Stage) -> dict[str, str]:
        """ENV and ARG values visible in a stage, its parents' included (memoised per stage)."""
        if stage.index not in self._env:
            env: dict[str, str] = {}
            for s in reversed(self.stage_chain(stage)):
                for inst in s.instructions:
                    if inst.keyword in ("ENV", "ARG"):
                        env.update(self.memo(("assignments", inst.line),
                                             functools.partial(parse_assignments, inst.args, inst.keyword)))
            self._env[stage.index] = env
        return self._env[stage.index]


# What a rule yields: (where, message, hint) or (where, message, hint, severity) when one finding deserves
# another severity than the rule's (cache left in a stage that never ships). `where` is an instruction, a
# line, or a list of instructions: the first is reported, a pragma on any of them silences the finding.
Hit = tuple[Any, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    explain: str
    check: Callable[[Context], Iterator[Hit]]
    fixable: bool = False


def parse_assignments(text: str, keyword: str = "ENV") -> dict[str, str]:
    """`K=V K2="v 2"`, ENV's legacy `K value with spaces`, or ARG's `A B=c` names."""
    out: dict[str, str] = {}
    words = shell_words(text)
    if keyword != "ARG" and len(words) >= 2 and "=" not in words[0]:  # legacy `ENV KEY value...`
        return {unquote(words[0]): unquote(" ".join(words[1:]))}
    for w in words:
        k, sep, v = w.partition("=")
        out[unquote(k)] = unquote(v) if sep else ""
    return out


GO_BUILD = re.compile(r"\bgo\s+(?:build|install)\b")
GO_MOD_DOWNLOAD = re.compile(r"\bgo\s+(?:mod\s+download|get)\b")
_SEPARATORS = re.compile(r"&&|\|\||;|\||\n|\$\(|`|\(|\)|\bthen\b|\bdo\b|\belse\b")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_VAR = re.compile(r"\$\{(\w+)[^}]*\}|\$(\w+)")


def commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script as unquoted words, leading VAR=value assignments dropped.

    One split on one alternation and one linear word scan per piece: hostile RUN lines stay linear.
    """
    out = []
    for piece in _SEPARATORS.split(script):
        words = shell_words(piece)
        k = 0
        while k < len(words) and _ASSIGNMENT.match(words[k]):
            k += 1
        if k < len(words):
            out.append([unquote(w) for w in words[k:]])
    return out


def assignments(script: str) -> dict[str, str]:
    """VAR=value words that prefix commands in a script (`CGO_ENABLED=0 go build`)."""
    found: dict[str, str] = {}
    for piece in _SEPARATORS.split(script):
        for w in shell_words(piece):
            if not _ASSIGNMENT.match(w):
                break
            k, _, v = w.partition("=")
            found[k] = unquote(v)
    return found


def expand(text: str, env: dict[str, str]) -> str:
    """$VAR and ${VAR} from known ENV/ARG values; unknown ones stay as written."""
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), text)


@dataclass
class GoBuild:
    """One `go build`/`go install` command of a RUN, with what decides the binary's shape."""

    inst: Instruction
    stage: Stage
    verb: str  # build | install
    words: list[str]
    env: dict[str, str]  # ENV/ARG of the stage plus the command's own assignments
    output: str | None  # -o target

    def flag_values(self, name: str) -> list[str]:
        values = []
        for k, w in enumerate(self.words):
            if w in (f"-{name}", f"--{name}") and k + 1 < len(self.words):
                values.append(self.words[k + 1])
            elif w.startswith((f"-{name}=", f"--{name}=")):
                values.append(w.split("=", 1)[1])
        goflags = self.env.get("GOFLAGS", "")
        values += [w.split("=", 1)[1] for w in goflags.split() if w.startswith(f"-{name}=")]
        return [expand(v, self.env) for v in values]

    def has_flag(self, name: str) -> bool:
        return any(w in (f"-{name}", f"--{name}") or w.startswith(f"-{name}=") for w in self.words) or \
            f"-{name}" in self.env.get("GOFLAGS", "").split()

    @property
    def remote_tool(self) -> bool:
        """`go install pkg@version`: a tool fetched for the build, not the project's own binary."""
        return self.verb == "install" and any("@" in w and not w.startswith("-") for w in self.words[2:])

    def names(self) -> set[str]:
        """Names the binary may have: the -o base name, or the last element of each package path."""
        if self.output:
            return {self.output.rstrip("/").rsplit("/", 1)[-1]}
        pkgs = [w.split("@", 1)[0] for w in self.words[2:] if not w.startswith("-") and "=" not in w]
        return {p.rstrip("/").rsplit("/", 1)[-1] for p in pkgs if p not in (".", "./...")}


def go_build_commands(ctx: "Context", stage: Stage) -> list[GoBuild]:
    return ctx.memo(("go_builds", stage.index), lambda: _go_build_commands(ctx, stage))


def _go_build_commands(ctx: "Context", stage: Stage) -> list[GoBuild]:
    found = []
    env = ctx.stage_env(stage)
    for inst in runs(stage):
        script = inst.script()
        if not GO_BUILD.search(script):
            continue
        local = {**env, **assignments(script)}
        for words in commands(script):
            k = next((j for j, w in enumerate(words[:-1]) if w.rsplit("/", 1)[-1] in ("go", "xx-go")
                      and words[j + 1] in ("build", "install")), None)
            if k is None:
                continue
            words = words[k:]
            out = None
            for j, w in enumerate(words):
                if w == "-o" and j + 1 < len(words):
                    out = expand(words[j + 1], local)
                elif w.startswith("-o="):
                    out = expand(w[3:], local)
            found.append(GoBuild(inst, stage, words[1], words, local, out))
    return found


def copied_from(ctx: "Context", final: Stage) -> list[tuple[Instruction, Stage, list[str]]]:
    """(COPY, source stage, source paths) for every COPY --from=<stage> into the final stage chain."""
    out = []
    for s in ctx.stage_chain(final):
        for inst in s.instructions:
            src = inst.flags.get("from") if inst.keyword in ("COPY", "ADD") else None
            stage = ctx.df.stage_by_name(src) if src else None
            if stage is not None and stage.index < s.index:
                out.append((inst, stage, inst.words()[:-1]))
    return out


@dataclass
class _Copied:
    """Paths copied out of one stage, indexed so that matching a build against them is a few lookups."""

    paths: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    patterns: list[tuple[str, str]] = field(default_factory=list)  # (directory, regex of the base name)
    bin_dir: bool = False

    def add(self, src: str) -> None:
        src = src.rstrip("/") or "/"
        directory, _, base = src.rpartition("/")
        self.paths.add(src)
        self.names.add(base)
        if "*" in base or "?" in base:
            if len(self.patterns) < 64:
                self.patterns.append((directory, re.escape(base).replace(r"\*", ".*").replace(r"\?", ".")))
        else:
            self.bin_dir = self.bin_dir or "/go/bin" in src or src.endswith("/bin")

    def reached_by(self, build: GoBuild) -> bool:
        if not self.paths:
            return False
        names = build.names()
        if build.output:
            parts = build.output.rstrip("/").split("/")
            if "/" in self.paths or any("/".join(parts[:k]) in self.paths for k in range(1, len(parts) + 1)):
                return True
        if names & self.names:
            return True
        if self.patterns:  # a glob matches a build only in the directory the binary is written to
            dirs = {build.output.rstrip("/").rpartition("/")[0]} if build.output else \
                {build.env.get("GOBIN", "/go/bin"), "/go/bin", "/root/go/bin"} if build.verb == "install" else set()
            relative = build.output is not None and not build.output.startswith("/")
            if any((d in dirs or relative and (d + "/").endswith("/" + next(iter(dirs)) + "/"))
                   and re.fullmatch(p, n) for d, p in self.patterns for n in names):
                return True
        if build.verb == "install" and self.bin_dir:
            return True
        # `go build` with no -o and no package name writes into WORKDIR: any copied path may be it
        return not build.output and build.verb == "build" and not build.remote_tool and not names


def shipped_builds(ctx: "Context") -> list[GoBuild]:
    """The Go builds whose binaries reach the final image (Go-flag rules are about those only).

    A build in the final stage chain ships. A build in another stage ships when a COPY --from of that
    stage (or of a stage built FROM it) names its output (by -o path, by binary name, or by a directory
    that holds it); a `go install tool@version` ships only when its name or /go/bin is copied.
    """
    return ctx.memo(("shipped", -1), lambda: _shipped_builds(ctx))


def _shipped_builds(ctx: "Context") -> list[GoBuild]:
    final = ctx.df.final
    if final is None:
        return []
    chain = {s.index for s in ctx.stage_chain(final)}
    shipped = [b for s in ctx.df.stages if s.index in chain for b in go_build_commands(ctx, s)]
    copied: dict[int, _Copied] = {}
    # a file built in stage X is also in every stage FROM X: a copy out of one counts for its parents
    for _copy, stage, sources in copied_from(ctx, final):
        for s in ctx.stage_chain(stage):
            entry = copied.setdefault(s.index, _Copied())
            for src in sources:
                entry.add(src)
    for index, entry in copied.items():
        if index in chain:
            continue
        shipped += [b for b in go_build_commands(ctx, ctx.df.stages[index]) if entry.reached_by(b)]
    return shipped


def image_name(ref: str) -> tuple[str, str]:
    """(repository without registry, tag) of an image reference; digest refs get tag '@'."""
    ref = ref.strip()
    if "@" in ref:
        return ref.split("@", 1)[0].rsplit("/", 1)[-1], "@"
    last = ref.rsplit("/", 1)[-1]
    name, _, tag = last.partition(":")
    path = ref.rsplit(":", 1)[0] if ":" in last else ref
    return path, tag


def kind_of_image(ref: str) -> str:
    """toolchain | distro | minimal | static (scratch, distroless, chainguard static, slimgo) | unknown."""
    r = ref.lower()
    if r == "scratch" or "distroless" in r or "chainguard/static" in r or "slimgo/static" in r or \
            r.startswith("slimgo-bench/static") or "/static:" in r and "slimgo" in r:
        return "static"
    base = r.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    if base in ("golang", "go") or "golang" in base:
        return "toolchain"
    tag = r.rsplit(":", 1)[-1] if ":" in r.rsplit("/", 1)[-1] else ""
    if base in ("alpine", "busybox") or "slim" in tag or "minimal" in base:
        return "minimal"
    if base in ("ubuntu", "debian", "centos", "fedora", "rockylinux", "almalinux", "amazonlinux", "opensuse",
                "archlinux", "oraclelinux", "buildpack-deps"):
        return "distro"
    return "unknown"


def libc_of_image(ref: str) -> str:
    """none (no ELF interpreter: scratch, distroless/static) | musl (alpine) | glibc | unknown."""
    r = ref.lower()
    base = r.rsplit("/", 1)[-1].split("@", 1)[0]
    name, _, tag = base.partition(":")
    if r == "scratch" or "distroless/static" in r or "chainguard/static" in r or "slimgo" in r:
        return "none"
    if name == "alpine" or "alpine" in tag:
        return "musl"
    if "distroless" in r or name in ("ubuntu", "debian", "centos", "fedora", "rockylinux", "almalinux",
                                     "amazonlinux", "buildpack-deps", "golang") or "ubi" in name:
        return "glibc"
    return "unknown"


def runs(stage: Stage) -> Iterator[Instruction]:
    return (i for i in stage.instructions if i.keyword == "RUN")


def go_builds(stage: Stage) -> list[Instruction]:
    """The RUN instructions of a stage that compile Go (go build / go install)."""
    return [i for i in runs(stage) if GO_BUILD.search(i.script())]


def installs_packages(stage: Stage) -> bool:
    """The stage installs packages beyond the CA bundle and zoneinfo (which a static base has anyway)."""
    for i in runs(stage):
        for words in commands(i.script()):
            tool = words[0].rsplit("/", 1)[-1] if words else ""
            if tool in ("apk", "apt-get", "apt", "yum", "dnf", "microdnf", "zypper") and \
                    any(w in ("add", "install") for w in words[1:3] + words[1:]):
                pkgs = [w for w in words[1:] if not w.startswith("-") and w not in ("add", "install", "update")]
                if any(p.split("=")[0] not in ("ca-certificates", "tzdata") for p in pkgs):
                    return True
    return False
