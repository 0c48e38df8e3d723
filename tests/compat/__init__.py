"""Compatibility tests against the real agentops packages (see conftest.py)."""
