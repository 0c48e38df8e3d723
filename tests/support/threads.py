"""The thread propagation ``instrument()`` installs, seen from outside: wrapt layers.

``instrument()`` wraps, with wrapt, the methods docs/architecture.rst lists, beneath other
instrumentations' wrappers; ``uninstrument()`` takes its layer out wherever it sits. A layer
is ours when its wrapper function is this package's.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wrapt import BoundFunctionWrapper, FunctionWrapper

PACKAGE = "opentelemetry_instrumentation_agentops"
# The methods that carry the context into threads: each class's own (Timer inherits start(),
# and has a run() of its own on every Python this package supports, kept if one day it has not).
WRAPPED = [
    (threading.Thread, "start"),
    (threading.Thread, "run"),
    (threading.Timer, "run"),
    (ThreadPoolExecutor, "submit"),
]
TARGETS = [(owner, name) for owner, name in WRAPPED if name in vars(owner)]


def layers(owner: type, name: str) -> list[Any]:
    """The wrapt wrappers on ``owner.name``, outermost first."""
    found = []
    item = vars(owner).get(name)
    while isinstance(item, (FunctionWrapper, BoundFunctionWrapper)):
        found.append(item)
        item = item.__wrapped__
    return found


def our_layers(owner: type, name: str) -> list[Any]:
    """The layers on ``owner.name`` whose wrapper function is this package's."""
    return [
        layer
        for layer in layers(owner, name)
        if getattr(layer._self_wrapper, "__module__", "").startswith(PACKAGE)
    ]


def threads_instrumented() -> bool:
    """Whether the propagation is installed: our layer on every wrapped method."""
    return all(our_layers(owner, name) for owner, name in TARGETS)
