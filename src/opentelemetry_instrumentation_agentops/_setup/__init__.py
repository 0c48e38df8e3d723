"""What ``init()`` and ``instrument()`` change in the process, each step with its undo."""
