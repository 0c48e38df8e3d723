"""Redirection of the real ``agentops`` package onto this engine (filled in by issue 4)."""


def redirect_agentops() -> None:
    """Point the installed ``agentops`` package's session API at this engine."""


def restore_agentops() -> None:
    """Give the original ``agentops`` package back."""
