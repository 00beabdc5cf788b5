"""People on the platform: accounts, roles, passwords and revocable sessions."""
