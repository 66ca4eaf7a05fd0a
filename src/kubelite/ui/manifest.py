"""An object as the web view's manifest pane shows it: YAML as ``kubectl get -o yaml`` prints it
(keys in order, block style, a string of several lines as a literal ``|`` block, so
``last-applied-configuration`` reads as kubectl shows it), without ``metadata.managedFields``
(as ``kubectl get`` leaves them out unless ``--show-managed-fields``). PURE."""

from __future__ import annotations

from typing import Any

import yaml

from kubelite.model.objects import JSON


def without_managed_fields(obj: JSON) -> dict[str, Any]:
    """A shallow copy of ``obj`` whose metadata has no ``managedFields``."""
    out = dict(obj)
    md = obj.get("metadata")
    if isinstance(md, dict) and "managedFields" in md:
        out["metadata"] = {k: v for k, v in md.items() if k != "managedFields"}
    return out


class _Dumper(yaml.SafeDumper):
    """Safe YAML, with strings of several lines as literal blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def manifest_yaml(obj: JSON) -> str:
    text: str = yaml.dump(
        without_managed_fields(obj),
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 16,  # one line per value, never folded
    )
    return text
