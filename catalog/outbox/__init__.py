"""The transactional outbox: a change and its notice to the search index commit together."""
