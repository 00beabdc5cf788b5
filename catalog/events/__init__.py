"""Behaviour events (impressions, clicks, favourites, ...): an append-only store that
ranking learns from and analysts export."""
