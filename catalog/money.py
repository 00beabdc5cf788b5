"""Money is an integer number of fen (1/100 yuan); never a float."""

from typing import NewType

Fen = NewType("Fen", int)

# A second-hand listing above ten million yuan is a typo or abuse, not a sale.
MAX_LISTING_PRICE = Fen(10_000_000_00)
