"""``$(VAR)`` expansion of container command, args and env values (VOL-10).

Kubernetes expands references in ``command``, ``args`` and ``env[].value`` itself, before the
runtime ever sees them, with deliberately forgiving rules: ``$$`` is an escaped ``$``, a
reference to a variable that is not defined is left exactly as written, and a ``$`` that does
not start a reference is kept. Pure: no I/O, no environment access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

Lookup = Callable[[str], str | None]


def expand(text: str, lookup: Lookup | Mapping[str, str]) -> str:
    """Replace every ``$(NAME)`` that ``lookup`` knows; ``$$`` becomes ``$`` (VOL-10)."""
    find = lookup.get if isinstance(lookup, Mapping) else lookup
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":  # escaped dollar
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:  # unterminated: keep the rest as written
                out.append(text[i:])
                break
            name = text[i + 2 : close]
            value = find(name) if name else None
            out.append(text[i : close + 1] if value is None else value)
            i = close + 1
        else:  # a lone "$" followed by anything else is literal
            out.append(ch)
            i += 1
    return "".join(out)


def expand_env(env: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Expand each value against the variables defined *before* it, in order (VOL-10).

    A later definition of the same name replaces the earlier one for later references."""
    defined: dict[str, str] = {}
    result: list[tuple[str, str]] = []
    for name, value in env:
        expanded = expand(value, defined)
        defined[name] = expanded
        result.append((name, expanded))
    return result
