"""End-to-end tests against a real Arize Phoenix server (see ``phoenix.py``)."""
