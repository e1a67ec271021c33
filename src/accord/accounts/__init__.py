"""Accounts: API tokens now; officers, roles and sessions arrive with the web UI."""
