"""A real OpenTelemetry logs pipeline for tests: SDK LoggerProvider, processor, exporter, handler.

``log_pipeline(order, processing)`` builds it in the order a test names: the exporting
processor added before ``instrument(logger_provider=...)`` or after it. A ``"simple"``
processor exports each record as it is emitted, a ``"batch"`` one later from its own copy;
either way what the test reads is what was exported. Records go through the SDK's
``LoggingHandler`` (the logging bridge ``opentelemetry-instrument`` installs on the root
logger), here on a logger of the test's own so the root logger stays untouched.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler, export
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor

from opentelemetry_instrumentation_agentops import AgentOpsInstrumentor

# The newer name; older SDKs (down to 1.30, the oldest supported) have only the old one.
LogRecordExporter: Any = getattr(export, "LogRecordExporter", None) or export.LogExporter
ExportResult: Any = getattr(export, "LogRecordExportResult", None) or export.LogExportResult
ORDERS = ("exporter first", "instrument first")
PROCESSING = ("simple", "batch")


@dataclass
class Exported:
    """One exported log record: its body and attributes."""

    body: Any
    attributes: dict[str, Any]


class SnapshotExporter(LogRecordExporter):
    """Keeps each record as it was when exported, as an OTLP exporter serializes it then.

    (The SDK's in-memory exporter keeps the record object itself, so a processor that
    stamps it after the export would still seem to have stamped what was exported.)
    """

    def __init__(self) -> None:
        self.records: list[Exported] = []
        self.lock = threading.Lock()

    def export(self, batch: Any) -> Any:
        with self.lock:
            self.records.extend(
                Exported(item.log_record.body, dict(item.log_record.attributes or {}))
                for item in batch
            )
        return ExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass
class LogPipeline:
    logger: logging.Logger
    provider: LoggerProvider
    exporter: SnapshotExporter

    def exported(self) -> list[Exported]:
        """Every record exported so far (batches flushed first)."""
        assert self.provider.force_flush(10_000)
        with self.exporter.lock:
            return list(self.exporter.records)


def sdk_handler(provider: LoggerProvider) -> logging.Handler:
    """The SDK's LoggingHandler (deprecated in newer SDKs in favour of the contrib one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return LoggingHandler(logger_provider=provider)


@contextlib.contextmanager
def log_pipeline(
    order: str = "exporter first",
    processing: str = "simple",
    handler: Callable[[LoggerProvider], logging.Handler] = sdk_handler,
    **options: Any,
) -> Iterator[LogPipeline]:
    """A logger whose records reach an in-memory exporter; instrument() in ``order``."""
    provider = LoggerProvider(shutdown_on_exit=False)
    exporter = SnapshotExporter()
    if processing == "simple":
        processor: Any = SimpleLogRecordProcessor(exporter)
    else:
        processor = BatchLogRecordProcessor(exporter)
    instrumentor = AgentOpsInstrumentor()
    if order == "exporter first":
        provider.add_log_record_processor(processor)
        instrumentor.instrument(logger_provider=provider, **options)
    else:
        instrumentor.instrument(logger_provider=provider, **options)
        provider.add_log_record_processor(processor)
    bridge = handler(provider)
    logger = logging.getLogger(f"tests.logs.{uuid.uuid4().hex[:8]}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(bridge)
    try:
        yield LogPipeline(logger, provider, exporter)
    finally:
        logger.removeHandler(bridge)
        instrumentor.uninstrument()
        provider.shutdown()
