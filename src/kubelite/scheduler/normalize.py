"""Scores brought to 0-100 as upstream's plugins do (``helper.DefaultNormalizeScore``): each
node's score as a share of the highest, in integers; ``reverse`` turns it round, so that a node
with none of what is counted (untolerated PreferNoSchedule taints) scores highest.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubelite.scheduler.status import MAX_NODE_SCORE


def default_normalize(scores: Mapping[str, int], *, reverse: bool) -> dict[str, int]:
    top = max((s for s in scores.values()), default=0)
    if top <= 0:
        # nothing counted anywhere: every node alike (all best when reversed)
        return {n: MAX_NODE_SCORE if reverse else s for n, s in scores.items()}
    out = {}
    for name, score in scores.items():
        scaled = MAX_NODE_SCORE * score // top
        out[name] = MAX_NODE_SCORE - scaled if reverse else scaled
    return out
