"""How deeply a request body may nest, and the error a body that nests deeper gets.

The API server decodes JSON with Go's ``encoding/json``, whose scanner refuses a document nested
more than 10000 levels deep with ``invalid character '[' exceeded max depth`` (the character is
the bracket that went one level too far). kubelite refuses at ``MAX_DEPTH`` levels instead, with
the same text: its request path (decoding, patching, copying, validating, storing) is recursive
Python, which cannot go 10000 levels deep, and no valid object of the kinds it serves nests more
than about 30 levels (a pod's managedFields are the deepest). What the API server accepts between
the two limits is only ever nesting inside fields it drops as unknown.

Both checks are iterative, so they never hit the interpreter's recursion limit themselves.
"""

from __future__ import annotations

import re
from typing import Any

GO_MAX_DEPTH = 10_000  # encoding/json's maxNestingDepth, the API server's limit
MAX_DEPTH = 128  # kubelite's
_INTERESTING = re.compile(rb'[\[\]{}"\\]')


def depth_message(opening: str) -> str:
    """Go's scanner error for a container opened one level too deep (``opening`` is ``[`` or
    ``{``)."""
    return f"invalid character '{opening}' exceeded max depth"


def text_depth_error(raw: bytes, limit: int = MAX_DEPTH) -> str | None:
    """Go's error if the JSON text ``raw`` opens a container deeper than ``limit`` levels,
    else None. Brackets inside strings do not count. Linear in ``len(raw)``."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return None
    depth = 0
    in_string = False
    escaped_at = -1  # inside a string: the position a backslash escapes
    for match in _INTERESTING.finditer(raw):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                escaped_at = -1
            elif char == b"\\":
                escaped_at = at + 1
            elif char == b'"':
                in_string = False
            continue
        if char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return depth_message(char.decode())
        elif char in (b"]", b"}"):
            depth -= 1
    return None


def value_depth_error(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Go's error if the decoded ``value`` nests containers deeper than ``limit`` levels, else
    None. Walked level by level, each level in document order, so the container named is the
    first one a scanner reading the text would have refused."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return depth_message("{" if isinstance(level[0], dict) else "[")
        children: list[Any] = []
        for node in level:
            children.extend(node.values() if isinstance(node, dict) else node)
        level = [child for child in children if isinstance(child, dict | list)]
    return None


def expanded_size(value: Any, cap: int) -> int:
    """How many containers and values ``value`` holds once shared parts (YAML aliases) are
    counted at every place they appear, counting no further than ``cap``."""
    level: list[Any] = [value]
    seen = 0
    while level and seen < cap:
        seen += len(level)
        children: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                children.extend(node.values())
            elif isinstance(node, list):
                children.extend(node)
            if len(children) > cap:
                break
        level = children
    return min(seen, cap)
