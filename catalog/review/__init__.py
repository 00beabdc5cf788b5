"""Reviewing goods before they appear: the queue, decisions and their audit trail."""
