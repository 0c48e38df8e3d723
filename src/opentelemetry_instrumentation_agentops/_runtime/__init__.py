"""The process-wide state and its one owner (``owner.RUNTIME``): nothing here makes a span."""
