"""The HTTP face of the platform: the JSON API (and later the H5 pages and admin console)."""
