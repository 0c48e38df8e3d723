"""The ways an application's spans reach Phoenix: directly, or through a real collector.

``otlp_route(phoenix, route)`` gives the ``OTEL_EXPORTER_OTLP_*`` variables that send an
application's spans along ``route``; for a route through rotel (``support/rotel.py``) the
collector runs until the block ends, so a test reads Phoenix inside the block. Through rotel
both legs use the protocol the route names: the application to rotel, rotel to Phoenix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from support.rotel import rotel_collector

from .phoenix import PhoenixServer

DIRECT = "direct"
ROTEL_HTTP = "rotel over HTTP"
ROTEL_GRPC = "rotel over gRPC"
THROUGH_ROTEL = (ROTEL_HTTP, ROTEL_GRPC)
ROUTES = (DIRECT, *THROUGH_ROTEL)

_SDK_PROTOCOL = {"http": "http/protobuf", "grpc": "grpc"}


def _variables(endpoint: str, protocol: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": _SDK_PROTOCOL[protocol],
    }


@contextlib.contextmanager
def otlp_route(phoenix: PhoenixServer, route: str) -> Iterator[dict[str, str]]:
    """The OTLP variables of ``route``, with its collector running while the block runs."""
    if route == DIRECT:
        yield _variables(phoenix.url, "http")
        return
    protocol = "grpc" if route == ROTEL_GRPC else "http"
    upstream = phoenix.grpc_endpoint if protocol == "grpc" else phoenix.url
    with rotel_collector(upstream, protocol) as collector:
        yield _variables(collector.endpoint(protocol), protocol)
