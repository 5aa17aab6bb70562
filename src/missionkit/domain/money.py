"""ISO 4217 currencies and money amounts."""

from decimal import Decimal
from functools import cache

import pycountry


@cache
def _currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def is_known_currency(code: str) -> bool:
    """True for an active ISO 4217 alphabetic code (pycountry's copy of the list)."""
    return code in _currency_codes()


def to_cents(value: Decimal) -> Decimal:
    """Money is kept to the cent; anything finer is a data error, not rounding to hide."""
    return value.quantize(Decimal("0.01"))
