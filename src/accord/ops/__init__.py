"""Keeping a node: backup and restore."""
