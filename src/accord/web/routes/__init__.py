"""Web routes, one module per domain."""
