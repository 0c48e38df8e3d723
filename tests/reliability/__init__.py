"""Reliability suite: load, faults, bad input and security (issue #6).

Run it alone with ``pytest -m reliability``; ``AGENTOPS_RELIABILITY_FULL=1`` runs the
full counts (see ``checks.FULL``).
"""
