"""Goods sellers publish: their lifecycle, photos, and who may do what to them."""
