"""A quantity as the API server writes it back (its canonical form: ``1024Mi`` → ``1Gi``,
``1000M`` → ``1G``, ``0.5`` → ``500m``), which is what ``kubectl get pv`` shows in CAPACITY.

The form follows the suffix the value was written with: a binary suffix (``Ki`` … ``Ei``)
keeps a binary one when the value is a whole number of at least 1024 (the largest power of
1024 that divides it), else it falls back to decimal; a decimal suffix (or none) gives the
mantissa with the largest exponent that is a multiple of 3 and leaves it whole; an exponent
(``1e3``) stays an exponent (``1e3``).
"""

from __future__ import annotations

import re
from fractions import Fraction

from kubelite.model.quantity import parse_quantity

_DECIMAL_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T",
                     15: "P", 18: "E"}  # fmt: skip
_BINARY_SUFFIXES = {0: "", 1: "Ki", 2: "Mi", 3: "Gi", 4: "Ti", 5: "Pi", 6: "Ei"}
_BINARY_WRITTEN = re.compile(r"(Ki|Mi|Gi|Ti|Pi|Ei)$")
_EXPONENT_WRITTEN = re.compile(r"\d[eE][+-]?\d+$")
NANO = Fraction(1, 10**9)


def canonical(value: str | int | float) -> str:
    """The canonical spelling of ``value``; raises ``QuantityError`` if it is no quantity."""
    amount = parse_quantity(value)
    if amount == 0:
        return "0"
    text = str(value).strip()
    if _BINARY_WRITTEN.search(text) and abs(amount) >= 1024 and amount.denominator == 1:
        return _binary(int(amount))
    exponent_form = bool(_EXPONENT_WRITTEN.search(text))
    return _decimal(amount, exponent_form=exponent_form)


def _binary(value: int) -> str:
    power = 0
    while power < 6 and value % 1024 == 0:
        value //= 1024
        power += 1
    return f"{value}{_BINARY_SUFFIXES[power]}"


def _decimal(amount: Fraction, *, exponent_form: bool) -> str:
    # nanos are the finest unit a quantity keeps; anything finer rounds away from zero
    nanos = amount / NANO
    whole = int(nanos) if nanos.denominator == 1 else int(nanos) + (1 if nanos > 0 else -1)
    exponent = -9
    while whole % 10 == 0:
        whole //= 10
        exponent += 1
    shift = exponent % 3
    whole *= 10**shift
    exponent -= shift
    if exponent_form:
        return f"{whole}e{exponent}" if exponent else str(whole)
    suffix = _DECIMAL_SUFFIXES.get(exponent)
    if suffix is None:
        return f"{whole}e{exponent}"
    return f"{whole}{suffix}"
