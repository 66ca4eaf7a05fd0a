"""The agent's decision core stays in three sides that share ``predicates`` and never reach into
each other: planning, the status builder, and the executor that carries plans out.

Pure and fast: the modules are parsed with ``ast``, not imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[3] / "src" / "kubelite" / "agent"

PLANNING = {"planning", "initplan", "appplan"}
STATUS = {"podstatus", "containerstatus", "phase", "conditions"}
EXECUTING = {"executing"}


def agent_imports(module: str) -> set[str]:
    """The ``kubelite.agent`` modules that ``module`` imports (either import form)."""
    tree = ast.parse((AGENT / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "kubelite.agent":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("kubelite.agent."):
                found.add(node.module.removeprefix("kubelite.agent.").split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kubelite.agent."):
                    found.add(alias.name.removeprefix("kubelite.agent.").split(".")[0])
    return found


@pytest.mark.parametrize(
    ("side", "others"),
    [
        (STATUS, PLANNING | EXECUTING),
        (PLANNING, STATUS | EXECUTING),
        (EXECUTING, PLANNING | STATUS),
    ],
    ids=["status", "planning", "executing"],
)
def test_each_side_of_the_decision_core_imports_neither_of_the_others(
    side: set[str], others: set[str]
) -> None:
    for module in sorted(side):
        assert not agent_imports(module) & others, module


def test_the_planner_and_the_status_builder_share_their_predicates() -> None:
    assert "predicates" in agent_imports("planning")
    assert "predicates" in agent_imports("appplan")
    assert "predicates" in agent_imports("podstatus")
    assert "predicates" in agent_imports("containerstatus")
