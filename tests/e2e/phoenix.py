"""The Phoenix backend of the e2e tests: ``support.phoenix``, under the name these tests use.

Start, stop and query a throwaway Arize Phoenix server (see ``tests/support/phoenix.py``)::

    with phoenix_server() as px:
        exporter = OTLPSpanExporter(endpoint=px.otlp_http_endpoint)
        ...
        spans = wait_for_spans(px.url, trace_id_hex, n=2)

Only what Phoenix keeps may be asserted: span names, parent links, span attributes, events, status
and times. Resource attributes (``service.name``) and the OTel span kind are not stored.
"""

from __future__ import annotations

# Every public name of support.phoenix, so ``from .phoenix import ...`` keeps working.
from support.phoenix import *  # noqa: F403
from support.phoenix import __all__  # noqa: F401
