"""docs/ stays true to the code: the tests it names exist, every rule ID the code and the tests
cite has its section, every section states a status and its tests, and every link resolves.

Pure and fast: it reads files, parses test modules with ``ast`` and never imports them.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# The spec's rule families, and kubelite's own networking ones (NET-*, SA-*). The look-behind
# keeps "TEST-NET-1" or "sha-256"-like tokens from counting as citations.
FAMILIES = "SYNC|INIT|SC|APP|BO|PR|HK|TERM|TM|PH|CO|CS|KC|RES|QOS|EV|VOL|VAL|VER|TL|NET|SA"
RULE_ID = re.compile(rf"(?<![\w-])(?:{FAMILIES})-[0-9]+[a-z]?\b")
SECTION = re.compile(rf"^### ((?:{FAMILIES})-[0-9]+[a-z]?)$", re.MULTILINE)
TITLE_AND_STATUS = re.compile(r"^\*\*[^*]+\*\* — \*(?P<status>[^*]+)\*$")
STATUSES = ("implemented", "partly", "not implemented", "not applicable")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


@cache
def pages() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(DOCS.glob("*.md"))}


def sections() -> dict[str, str]:
    """Rule ID -> the text of its section (up to the next heading)."""
    out: dict[str, str] = {}
    for text in pages().values():
        parts = SECTION.split(text)
        for rule, body in zip(parts[1::2], parts[2::2], strict=True):
            out[rule] = body.split("\n#", 1)[0]
    return out


@cache
def defined_tests(path: Path) -> frozenset[str]:
    """``name`` and ``Class::name`` of every test function in a module."""
    names: set[str] = set()

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}::")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(prefix + node.name)

    walk(ast.parse(path.read_text()).body, "")
    return frozenset(names)


def cited_ids() -> dict[str, str]:
    """Every rule ID cited in src/ or tests/, with one place that cites it."""
    cited: dict[str, str] = {}
    for top in ("src", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for found in RULE_ID.findall(path.read_text()):
                cited.setdefault(found, str(path.relative_to(ROOT)))
    return cited


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: Counter[str] = Counter()
    out: set[str] = set()
    for line in text.splitlines():
        if match := re.match(r"^#{1,6} (.+)$", line):
            base = slug(match.group(1))
            out.add(base if not seen[base] else f"{base}-{seen[base]}")
            seen[base] += 1
    return out


def test_the_docs_have_an_index_and_pages() -> None:
    assert "README.md" in pages()
    assert len(pages()) > 10


def test_every_test_the_docs_name_exists() -> None:
    missing = []
    for page, text in pages().items():
        for path, name in TEST_REF.findall(text):
            module = ROOT / path
            if not module.is_file() or name not in defined_tests(module):
                missing.append(f"{page}: {path}::{name}")
    assert not missing, "docs name tests that do not exist:\n" + "\n".join(missing)


def test_every_rule_id_cited_in_the_code_or_the_tests_has_its_section() -> None:
    documented = set(sections())
    missing = sorted(
        f"{rule} (cited in {where})"
        for rule, where in cited_ids().items()
        if rule not in documented
    )
    assert not missing, "rule IDs without a section in docs/:\n" + "\n".join(missing)


def test_each_rule_has_exactly_one_section() -> None:
    counts = Counter(rule for text in pages().values() for rule in SECTION.findall(text))
    assert [rule for rule, n in counts.items() if n > 1] == []


def test_every_rule_section_states_its_title_status_and_tests() -> None:
    problems = []
    for rule, body in sections().items():
        lines = [line for line in body.splitlines() if line.strip()]
        match = TITLE_AND_STATUS.match(lines[0]) if lines else None
        if match is None or not match["status"].startswith(STATUSES):
            problems.append(f"{rule}: first line is not '**title** — *status*'")
        if not any(line.startswith("**Tests:**") for line in lines):
            problems.append(f"{rule}: no **Tests:** line")
    assert not problems, "\n".join(problems)


def test_every_link_between_pages_resolves_to_a_page_and_heading() -> None:
    broken = []
    for page, text in pages().items():
        for target in LINK.findall(text):
            if "://" in target:
                continue
            file, _, anchor = target.partition("#")
            linked = pages().get(file or page)
            if linked is None:
                broken.append(f"{page}: {target} (no such page)")
            elif anchor and anchor not in anchors(linked):
                broken.append(f"{page}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_page_is_linked_from_the_index() -> None:
    linked = {target.partition("#")[0] for target in LINK.findall(pages()["README.md"])}
    assert sorted(set(pages()) - linked - {"README.md"}) == []
