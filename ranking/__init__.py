"""Ranking: events, hot and new scores, the feed, recommendations, configuration, metrics.

Built by the ranking issue.
"""
