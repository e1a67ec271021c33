"""Shared plumbing: database, types, errors, canonical encoding."""
