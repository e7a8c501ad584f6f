"""Peak memory of a short-lived program: how stable is each way of reading it?

Peers, measured in the same run on the same binary (a static Go program that touches an 8 MiB buffer
and exits) in the same sandbox:
- `poll`: read VmHWM from /proc every 2 ms until the process is gone (what compare did before);
- `exit-stop`: slimgo's way, VmHWM read at the PTRACE_EVENT_EXIT stop, before the memory is freed;
- `ru_maxrss`: wait4's rusage, for reference (Linux folds the spawning Python's high-water mark in).

Run as root: `python3 benchmarks/memory_bench.py [RUNS]`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from slimgo.compare.sandbox import Command, run_to_exit, spawn, vm_hwm

PROGRAM = """package main

import "fmt"

func main() {
	b := make([]byte, 8<<20)
	for i := range b {
		b[i] = byte(i)
	}
	fmt.Println(b[100])
}
"""


def _poll(cmd: Command) -> tuple[int, int]:
    proc = spawn(cmd)
    peak = 0
    while True:
        peak = max(peak, vm_hwm(proc.pid))
        pid, _status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.002)
    if proc.stdout:
        proc.stdout.close()
    proc.returncode = 0
    return peak, ru.ru_maxrss * 1024


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory(prefix="slimgo-membench-") as tmp:
        work = Path(tmp)
        (work / "src").mkdir()
        (work / "src" / "go.mod").write_text("module example.com/short\n\ngo 1.21\n")
        (work / "src" / "main.go").write_text(PROGRAM)
        subprocess.run(["go", "build", "-o", str(work / "short"), "."], cwd=work / "src", check=True,
                       env={**os.environ, "CGO_ENABLED": "0"})
        root = work / "root"
        (root / "app").mkdir(parents=True)
        os.chmod(root, 0o755)
        shutil.copy(work / "short", root / "app" / "short")
        cmd = Command(root, ["/app/short"], {}, 65532, 65532)
        found: dict[str, list[int]] = {"poll": [], "exit-stop": [], "ru_maxrss": []}
        for _ in range(runs):
            peak, maxrss = _poll(cmd)
            found["poll"].append(peak)
            found["ru_maxrss"].append(maxrss)
            r = run_to_exit(cmd, grace=10)
            found["exit-stop"].append(r.peak_rss or 0)
    mib = 1 << 20
    print(f"{'method':<10} {'median MiB':>11} {'min MiB':>8} {'max MiB':>8} {'spread':>8}   ({runs} runs each)")
    for name, values in found.items():
        med = statistics.median(values)
        spread = (max(values) - min(values)) / med if med else float("inf")
        print(f"{name:<10} {med / mib:>11.2f} {min(values) / mib:>8.2f} {max(values) / mib:>8.2f} {spread:>8.1%}")


if __name__ == "__main__":
    main()
