"""Will the image start? Every executable ELF's loader and libraries, the Go binaries' run-time needs
(binary/needs.py, the rule `slimgo analyze` uses) against the image's files, and the entrypoint.

The classic trap: a cgo binary linked against glibc on a musl base. The kernel reports "no such file
or directory" for a file that exists, because the missing file is the ELF interpreter.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from ..binary.linking import LIB_DIRS
from .fs import FileSystem
from .model import FILE, ElfInfo, ImageScan
from .surface import image_text, users

TRIPLETS = {"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu", "386": "i386-linux-gnu",
            "arm": "arm-linux-gnueabihf", "ppc64": "powerpc64le-linux-gnu", "s390x": "s390x-linux-gnu",
            "riscv64": "riscv64-linux-gnu"}
# crypto/x509 (root_linux.go): the bundles and directories Go reads.
CA_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
            "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem")
CA_DIRS = ("/etc/ssl/certs", "/etc/pki/tls/certs")
# time (zoneinfo_unix.go): where LoadLocation looks.
ZONE_DIRS = ("/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ", "/etc/zoneinfo")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class BinaryCheck:
    path: str
    link: str  # static | dynamic
    interpreter: str | None
    missing: list[str]
    go: bool
    unmet: list[str] = field(default_factory=list)  # Go needs the image does not meet, as consequences
    wrong_arch: str = ""

    @property
    def starts(self) -> bool:
        return not self.missing and not self.wrong_arch

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "link": self.link, "interpreter": self.interpreter, "missing": self.missing,
                "go": self.go, "starts": self.starts, "unmet_needs": self.unmet, "wrong_arch": self.wrong_arch}


@dataclass
class StartCheck:
    argv: list[str]
    resolved: str | None
    problems: list[str]  # reasons the entrypoint will not start
    warnings: list[str]  # it starts, but something will fail later
    binaries: list[BinaryCheck]
    libraries: int = 0  # ELF shared objects in the image: loaded, never started, so not checked

    @property
    def will_start(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"will_start": self.will_start, "argv": self.argv, "resolved": self.resolved,
                "problems": self.problems, "warnings": self.warnings,
                "binaries": [b.to_json() for b in self.binaries],
                "binaries_not_starting": sum(1 for b in self.binaries if not b.starts),
                "shared_libraries": self.libraries}


def _ld_conf_dirs(scan: ImageScan, fs: FileSystem) -> list[str]:
    dirs: list[str] = []
    for path in fs.entries:
        if path.startswith(("/etc/ld.so.conf.d/", "/etc/ld-musl-")) or path == "/etc/ld.so.conf":
            for line in image_text(scan, fs, path).replace(":", "\n").splitlines():
                line = line.split("#", 1)[0].strip()
                if line.startswith("/"):
                    dirs.append(line)
    return dirs


def _search_dirs(scan: ImageScan, fs: FileSystem, arch: str) -> list[str]:
    triplet = TRIPLETS.get(arch, "")
    multi = [f"/lib/{triplet}", f"/usr/lib/{triplet}"] if triplet else []
    return [*_ld_conf_dirs(scan, fs), *multi, *LIB_DIRS]


def _env(scan: ImageScan) -> dict[str, str]:
    env = {}
    for item in (scan.config.get("config") or {}).get("Env") or []:
        k, _, v = str(item).partition("=")
        env[k] = v
    return env


def _unmet(needs: dict[str, bool], fs: FileSystem, env: dict[str, str]) -> list[str]:
    out = []
    if needs.get("ca_roots") and not (env.get("SSL_CERT_FILE") or env.get("SSL_CERT_DIR")):
        if not any(fs.lookup(p) is not None for p in CA_FILES) and \
                not any(fs.children.get(fs.resolve(d) or "") for d in CA_DIRS):
            out.append("will fail at the first TLS call: no CA roots at any path Go reads")
    if needs.get("zoneinfo") and not env.get("ZONEINFO") and not any(fs.exists(d) for d in ZONE_DIRS):
        out.append("time.LoadLocation will fail: no zoneinfo in the image and time/tzdata is not embedded")
    if needs.get("user_db") and not fs.exists("/etc/passwd"):
        out.append("os/user lookups will fail: no /etc/passwd")
    if needs.get("dns") and needs.get("cgo_resolver") and not fs.exists("/etc/nsswitch.conf"):
        out.append("DNS through libc without /etc/nsswitch.conf: glibc falls back to its built-in order")
    return out


def _check_elf(path: str, info: ElfInfo, fs: FileSystem, dirs: list[str], arch: str,
               env: dict[str, str]) -> BinaryCheck:
    missing: list[str] = []
    if info.interpreter and fs.lookup(info.interpreter) is None:
        missing.append(info.interpreter)
    if info.interpreter:
        for lib in info.needed:
            if "/" in lib:
                found = fs.lookup(lib) is not None
            else:
                found = any(fs.lookup(posixpath.join(d, lib)) is not None for d in dirs)
            if not found:
                missing.append(lib)
    wrong = f"built for {info.machine}, image is {arch}" if arch and info.machine not in (arch, "unknown") else ""
    go = info.go is not None
    unmet = _unmet(info.go.needs, fs, env) if info.go is not None and info.go.needs else []
    return BinaryCheck(path, "dynamic" if info.dynamic else "static", info.interpreter, missing, go, unmet, wrong)


def _argv(scan: ImageScan) -> list[str]:
    cfg = scan.config.get("config") or {}
    return [str(x) for x in (cfg.get("Entrypoint") or [])] + [str(x) for x in (cfg.get("Cmd") or [])]


def _find(fs: FileSystem, name: str, env: dict[str, str], workdir: str) -> str | None:
    if "/" in name:
        path = name if name.startswith("/") else posixpath.join(workdir or "/", name)
        return path if fs.exists(path) else None
    for d in (env.get("PATH") or DEFAULT_PATH).split(":"):
        if d.startswith("/"):
            cand = posixpath.join(d, name)
            e = fs.lookup(cand)
            if e is not None and e.kind == FILE and e.mode & 0o111:
                return cand
    return None


def check(scan: ImageScan, fs: FileSystem) -> StartCheck:
    arch = str(scan.config.get("architecture") or "")
    env = _env(scan)
    dirs = _search_dirs(scan, fs, arch)
    checks: dict[str, BinaryCheck] = {}
    for path, e in sorted(fs.entries.items()):
        if e.kind != FILE or not e.mode & 0o111:  # only what can be exec'd (test fixtures are 0644)
            continue
        info = scan.layers[e.layer].elfs.get(path)
        if info is None or (info.dynamic and not info.interpreter):  # shared libraries are not started
            continue
        checks[path] = _check_elf(path, info, fs, dirs, arch, env)
    argv = _argv(scan)
    problems: list[str] = []
    warnings: list[str] = []
    resolved = None
    workdir = str((scan.config.get("config") or {}).get("WorkingDir") or "/")
    if not argv:
        problems.append("no ENTRYPOINT or CMD: `docker run IMAGE` has nothing to run")
    else:
        resolved = _find(fs, argv[0], env, workdir)
        _check_program(argv[0], resolved, fs, scan, env, checks, problems, warnings, workdir)
    user_note = _missing_user(scan, fs)
    if user_note:
        problems.append(user_note)
    libraries = sum(1 for path, e in fs.entries.items() if e.kind == FILE and path in scan.layers[e.layer].libraries)
    return StartCheck(argv, resolved, problems, warnings, list(checks.values()), libraries)


def _missing_user(scan: ImageScan, fs: FileSystem) -> str:
    user = str((scan.config.get("config") or {}).get("User") or "").split(":", 1)[0]
    if not user or user.isdigit() or user in users(scan, fs):
        return ""
    return f"USER {user} is not in the image's /etc/passwd: the runtime refuses to start the container"


def _check_program(name: str, resolved: str | None, fs: FileSystem, scan: ImageScan, env: dict[str, str],
                   checks: dict[str, BinaryCheck], problems: list[str], warnings: list[str], workdir: str,
                   depth: int = 0) -> None:
    if resolved is None:
        problems.append(f"{name}: not found in the image" + ("" if "/" in name else " (searched PATH)"))
        return
    real = fs.resolve(resolved)
    e = fs.lookup(resolved)
    if e is None or e.kind != FILE or real is None:
        problems.append(f"{resolved}: not a regular file")
        return
    if not e.mode & 0o111:
        problems.append(f"{resolved}: not executable (mode {e.mode & 0o7777:o})")
        return
    binary = checks.get(real) or checks.get(e.path)
    if binary is not None:
        if binary.missing:
            problems.append(f"{resolved}: will not start: {', '.join(binary.missing)} missing from the image "
                            f"(the kernel reports 'no such file or directory')")
        if binary.wrong_arch:
            problems.append(f"{resolved}: {binary.wrong_arch} (exec format error)")
        warnings.extend(f"{resolved}: {u}" for u in binary.unmet)
        return
    if scan.layers[e.layer].elfs.get(e.path) is not None:
        problems.append(f"{resolved}: a shared library, not a program")
        return
    shebang = scan.layers[e.layer].shebangs.get(e.path)
    if shebang is None:
        problems.append(f"{resolved}: neither an ELF program nor a #! script (exec format error)")
        return
    parts = shebang.split()
    if not parts:
        problems.append(f"{resolved}: empty #! line")
        return
    if depth > 3:
        problems.append(f"{resolved}: #! interpreters nest too deeply")
        return
    interp = parts[0]
    if posixpath.basename(interp) == "env" and len(parts) > 1:
        if fs.lookup(interp) is None:
            problems.append(f"{resolved}: #! interpreter {interp} is missing")
            return
        interp_name = parts[1]
        _check_program(interp_name, _find(fs, interp_name, env, workdir), fs, scan, env, checks, problems, warnings,
                       workdir, depth + 1)
        return
    found = fs.exists(interp)
    if not found:
        problems.append(f"{resolved}: #! interpreter {interp} is missing from the image")
        return
    _check_program(interp, interp, fs, scan, env, checks, problems, warnings, workdir, depth + 1)
