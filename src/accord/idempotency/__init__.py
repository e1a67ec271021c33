"""Idempotency keys: a request repeated with its key is answered once, from what was stored."""
