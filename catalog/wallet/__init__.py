"""Sellers' payout accounts and withdrawals of their balance."""
