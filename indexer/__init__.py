"""Search: documents, Chinese analysis, engines (Meilisearch and embedded), the outbox relay.

Built by the search issue; the catalog already writes the outbox rows it will consume.
"""
