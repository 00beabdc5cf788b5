"""Mainland China resident identity numbers (GB 11643-1999): checked, then only shown masked."""

from __future__ import annotations

import re
from datetime import date

_PATTERN = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def normalize_id_number(raw: str) -> str:
    return raw.strip().upper()


def check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def id_number_problem(id_number: str) -> str | None:
    """Why `id_number` is not a valid 18-character resident ID number, or None if it is."""
    if not _PATTERN.match(id_number):
        return "an ID number has 17 digits and a final digit or X"
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "the birth date inside the ID number is not a real date"
    if not date(1900, 1, 1) <= born <= date.today():
        return "the birth date inside the ID number is out of range"
    if check_digit(id_number[:17]) != id_number[17]:
        return "the ID number's check digit does not match"
    return None


def mask_id_number(id_number: str) -> str:
    """Keep the first and last few characters, as banks and apps show them: 110***********123X."""
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]
