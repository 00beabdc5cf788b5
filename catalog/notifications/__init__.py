"""In-app notifications with read state."""
