"""The double-entry ledger: every movement of money as postings that sum to zero."""
