"""The two-level category tree goods are filed under."""
