"""Kubernetes resource quantities (``250m``, ``64Mi``, ``1.5``, ``2e3``), exactly.

Values are kept as ``Fraction`` so that ``100m`` CPU and ``0.1`` compare equal and nothing is
lost to floating point; callers round where Kubernetes rounds (milli-CPU up, bytes up).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_RE = re.compile(r"^([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


# Bounds that keep arithmetic on hostile quantities cheap: ``1e99999999999`` would otherwise be
# a number with a hundred billion digits. Anything past them is far beyond every capacity, so
# comparisons keep their meaning; the API server's own decimal type holds such values as scaled
# decimals instead.
MAX_EXPONENT = 10_000
MAX_DIGITS = 1_000


class QuantityError(ValueError):
    """Not a quantity. The message is the one the API server gives."""


def parse_quantity(value: str | int | float) -> Fraction:
    if isinstance(value, bool):
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            raise QuantityError(
                "quantities must match the regular expression "
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            )
        return Fraction(str(value))
    m = _RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    sign, number, exponent, suffix = m.groups()
    if len(number) > MAX_DIGITS:
        raise QuantityError("unable to parse numeric part of quantity")
    n = Fraction(number)
    if exponent:
        n *= Fraction(10) ** max(-MAX_EXPONENT, min(MAX_EXPONENT, int(exponent[1:])))
    elif suffix in _BINARY:
        n *= _BINARY[suffix]
    else:
        n *= _DECIMAL[suffix or ""]
    return -n if sign == "-" else n


def to_milli(value: str | int | float) -> int:
    """Milli-units rounded up, as the kubelet does for CPU (``0.0001`` → 1m)."""
    return math.ceil(parse_quantity(value) * 1000)


def to_int(value: str | int | float) -> int:
    """Whole units rounded up (bytes of memory, for example)."""
    return math.ceil(parse_quantity(value))
