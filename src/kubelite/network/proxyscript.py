"""One nftables transaction as text: the accumulator the Service proxy's renderer writes its
chains, sets, maps, rules and elements into, and the script that replaces a whole table in one
step (``add table`` so that the ``delete`` cannot fail, ``delete table``, then the table again).
It exists apart from the renderer so that the ordering rules of a valid transaction are kept in
one small place. Pure.
"""

from __future__ import annotations

FAMILY = "ip"  # IPv4 only


class Script:
    """Accumulates one transaction: declarations first, then rules, then elements, so that
    every rule finds its sets and maps and every element finds its chains. A key already in
    a set or map is not added again (two Services may name one external IP and port; nft
    would refuse the whole transaction): the first, in Service order, wins."""

    def __init__(self, table: str) -> None:
        self.prefix = f"{FAMILY} {table}"
        self.decls: list[str] = []
        self.rules: list[str] = []
        self.elements: dict[str, dict[str, str]] = {}

    def chain(self, name: str, body: str = "") -> None:
        self.decls.append(f"add chain {self.prefix} {name}" + (f" {{ {body} }}" if body else ""))

    def declare(self, kind: str, name: str, body: str) -> None:
        self.decls.append(f"add {kind} {self.prefix} {name} {{ {body} }}")
        self.elements.setdefault(name, {})

    def rule(self, chain: str, text: str) -> None:
        self.rules.append(f"add rule {self.prefix} {chain} {text}")

    def element(self, container: str, key: str, value: str = "") -> None:
        """``key`` (with a comment, if any) and, for a map, `` : verdict`` as ``value``."""
        self.elements[container].setdefault(key.split(" comment ")[0], key + value)

    def text(self) -> str:
        lines = [f"add table {self.prefix}", f"delete table {self.prefix}"]
        lines.append(f'add table {self.prefix} {{ comment "rules for kubelite"; }}')
        lines += self.decls
        lines += self.rules
        for name, items in self.elements.items():
            if items:
                elements = ", ".join(items.values())
                lines.append(f"add element {self.prefix} {name} {{ {elements} }}")
        return "\n".join(lines) + "\n"
