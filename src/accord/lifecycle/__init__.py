"""The lifecycle of the personal data a node holds: retention, legal holds, erasure runs."""
