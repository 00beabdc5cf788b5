"""Photos: checked by content, stripped of metadata, resized, stored under random names."""
