"""A figure as a person says it: "about 40%", "three times", "0.61 ETH", "12,400".

Every number a dream shows is one of the digest's own, said here; the audit backs each
within the rounding these functions use, so a change to one is a change to what the audit
must accept.
"""

from __future__ import annotations

import math
import re

from reverie.perception.text import figure as fmt_num

SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_NUMBER_WORDS = set(SMALL) | set(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty "
    "thirty forty fifty sixty seventy eighty ninety hundred thousand million".split())


def fmt_pct(x: float) -> str:
    """A percentage as prose writes it: "83", "4.2"; the audit backs it within that rounding."""
    a = abs(x)
    if a >= 9.95:
        return str(math.floor(a + 0.5))
    return fmt_num(round(a, 1))


def big(n: float) -> str:
    """A whole figure as a person writes it: 313, 1597, 12,400."""
    n = int(round(abs(n)))
    return f"{n:,}" if n >= 10000 else str(n)


def says(n: float) -> str:
    """A count as said: two to nine in words, larger ones in figures (never a zero)."""
    n = int(round(abs(n)))
    return SMALL[n] if 1 < n < 10 else ("one" if n == 1 else big(n))


def amount(x: float, unit: str | None) -> str:
    """A balance at the precision a person reads it: 0.61 ETH, 12.4 SOL, 1520 USDC."""
    a = abs(x)
    if a >= 100:
        s = big(a)
    elif a >= 1:
        s = fmt_num(round(a, 2))
    elif a == 0:
        s = "nothing"
    else:
        digits = 1 - math.floor(math.log10(a))  # two significant figures
        s = fmt_num(round(a, digits))
    if x < 0 and s != "nothing":
        s = "minus " + s
    return s + (f" {unit}" if unit and s != "nothing" and not re.search(r"\d", unit) else "")
