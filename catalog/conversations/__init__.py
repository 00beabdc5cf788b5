"""Conversations between a buyer and a seller about one good: messages, offers, notifications."""
