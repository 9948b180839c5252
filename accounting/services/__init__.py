"""Accounting use cases: journalising partner events, exporting entries."""
