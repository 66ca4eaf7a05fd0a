"""JSON numbers as the API server's decoder reads them, where Python's would differ.

Python reads ``1e1000`` as infinity and accepts ``NaN`` and ``Infinity``; Go's decoder keeps a
number's digits (a Quantity such as ``memory: 1e1000`` is read from them, and stored as
``"1e1000"``) and refuses the three words as invalid JSON. ``parse_float`` keeps a number too
large for a float as a ``BigNumber`` (its digits; stored as a string, as the Quantity it must
be), ``parse_constant`` refuses the words with the decoder's message.
"""

from __future__ import annotations

import math


class BigNumber(str):
    """A JSON number beyond a float's range, kept as written."""

    __slots__ = ()


def parse_float(text: str) -> float | BigNumber:
    value = float(text)
    return value if math.isfinite(value) else BigNumber(text)


def parse_constant(text: str) -> float:
    raise ValueError(f"invalid character '{text[0]}' looking for beginning of value")
