"""Pydantic shapes of what the API takes (extra fields refused) and gives."""
