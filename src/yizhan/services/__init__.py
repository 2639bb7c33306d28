"""Use cases: delivery, accounts, mailbox operations, search, import/export, integrity checks."""
