"""The lesson bridge to the class journal: a durable outbox and the journal adapters."""
