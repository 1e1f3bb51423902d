"""The terminal's journal: transactions, outbox, counters and the hash-chained audit log, in SQLite."""
