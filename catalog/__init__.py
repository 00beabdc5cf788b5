"""The marketplace domain and its store: users, categories, goods, review, outbox.

Imports no web framework, task queue or search adapter; those depend on it.
"""
