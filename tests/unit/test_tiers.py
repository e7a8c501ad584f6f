"""The unit tier collects without the test extras (`pytest -m "not integration"` on a plain install): no
module of tests/unit or tests/support imports one at module level; they use pytest.importorskip."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tests.support.parts import REPO

PYPI_TO_MODULE = {"pyyaml": "yaml", "pyjwt": "jwt", "pyelftools": "elftools", "pytest-cov": "pytest_cov"}
ALLOWED = {"pytest"}  # the runner itself


def _extras() -> set[str]:
    doc = tomllib.loads((REPO / "pyproject.toml").read_text())
    names = set()
    for req in doc["project"]["optional-dependencies"]["test"]:
        name = req.split(">")[0].split("=")[0].split("<")[0].split(";")[0].strip().lower()
        names.add(PYPI_TO_MODULE.get(name, name.replace("-", "_")))
    return names - ALLOWED


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (imports inside functions are lazy), less those a module-level
    `pytest.importorskip("X")` guards."""
    found, guarded = set(), set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "importorskip"
              and node.value.args and isinstance(node.value.args[0], ast.Constant)):
            guarded.add(str(node.value.args[0].value).split(".")[0])
    return found - guarded


def test_unit_tier_imports_no_test_extra_at_module_level() -> None:
    extras = _extras()
    assert {"jsonschema", "hypothesis", "elftools"} <= extras
    offenders = {str(p.relative_to(REPO)): sorted(_top_level_imports(p) & extras)
                 for folder in ("tests/unit", "tests/support") for p in sorted((REPO / folder).glob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}
