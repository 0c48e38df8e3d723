"""Settings (environment variables, overridden by ``init()`` and ``instrument()``) and the logger.

Every warning, hint and summary line goes through the one logger
``opentelemetry_instrumentation_agentops``, so configuring it configures them all.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from dataclasses import dataclass, field

LOGGER_NAME = "opentelemetry_instrumentation_agentops"
logger = logging.getLogger(LOGGER_NAME)

STRICT_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_STRICT"
AUTO_START_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_AUTO_START_SESSION"
SUMMARY_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_SESSION_SUMMARY"
CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
CONTENT_MAX_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_CONTENT_MAX_LENGTH"
DEFAULT_TAGS_ENV = "AGENTOPS_DEFAULT_TAGS"
DISABLED_ENV = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"
LIVE_INTERVAL_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_LIVE_INTERVAL"
METRICS_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_METRICS"
INSTRUMENT_LLM_CALLS_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_INSTRUMENT_LLM_CALLS"
BAGGAGE_ENV = "OTEL_INSTRUMENTATION_AGENTOPS_BAGGAGE"

_TRUE = frozenset({"true", "1", "yes", "on"})
_CONTENT_ON = frozenset({"true", "1", "span_only", "span_and_event"})
DEFAULT_CONTENT_MAX_LENGTH = 4096
DEFAULT_LIVE_INTERVAL = 10.0  # seconds before a running session's first snapshot span


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in _TRUE


def _env_int(name: str, default: int) -> int:
    try:
        return max(64, int(os.environ.get(name, default)))
    except ValueError:
        return default


def _env_seconds(name: str, default: float) -> float:
    """A duration in seconds (fractions allowed, 0 = off); anything else is ``default``."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0 <= value < float("inf") else default


def otlp_protocol(signal: str) -> str:
    """The OTLP protocol the standard variables choose for ``signal`` (traces, metrics)."""
    protocol = (
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    return protocol.strip().lower()


def split_tags(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(tag.strip() for tag in value.split(",") if tag.strip())


# Settings only code gives (no variable): what is left when every holder forgot them.
_CODE_ONLY = ("tracer_provider", "meter_provider", "logger_provider")


@dataclass
class Settings:
    strict: bool = False
    capture_content: bool = False
    content_max_length: int = DEFAULT_CONTENT_MAX_LENGTH
    default_tags: tuple[str, ...] = ()
    skip_auto_end_session: bool = False
    log_summary: bool = True
    live_interval: float = DEFAULT_LIVE_INTERVAL  # 0: no snapshot spans
    # OTEL_PYTHON_DISABLED_INSTRUMENTATIONS names us: sessions still work, nothing is exported.
    disabled: bool = False
    # An explicit provider from init()/instrument(); None means the global one.
    tracer_provider: object | None = field(default=None, repr=False)
    # Session metrics, on the MeterProvider from instrument(), else the global one.
    metrics: bool = True
    meter_provider: object | None = field(default=None, repr=False)
    # Log records are stamped while an SDK LoggerProvider is in use: this one, else the global.
    logger_provider: object | None = field(default=None, repr=False)
    # Sessions across services: the session's id in W3C baggage, and stamped from it.
    # Off by default: baggage reaches every downstream service, third-party APIs included.
    propagate_session: bool = False
    # AgentOps keys, kept only so get_api_key() answers; never written to telemetry.
    api_key: str | None = field(default=None, repr=False)
    parent_key: str | None = field(default=None, repr=False)
    # What code chose, in order: (holder, setting, value). The latest choice wins over the
    # environment; uninstrument() forgets what instrument() chose and init()'s choice is back.
    chosen: list[tuple[str, str, object]] = field(default_factory=list, repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        settings = cls()
        settings.load_env()
        return settings

    def choose(self, holder: str, **values: object) -> None:
        """Set what ``holder`` asked for; ``None`` means "not given" and changes nothing."""
        for name, value in values.items():
            if value is not None:
                self.chosen = [c for c in self.chosen if c[:2] != (holder, name)]
                self.chosen.append((holder, name, value))
                setattr(self, name, value)

    def forget(self, holder: str) -> None:
        """Drop what ``holder`` chose: the earlier choices, else the environment, apply again."""
        self.chosen = [c for c in self.chosen if c[0] != holder]
        for name in _CODE_ONLY:
            setattr(self, name, None)
        self.load_env()

    def load_env(self) -> None:
        """Read the environment again; settings chosen in code keep their value."""
        self.strict = env_flag(STRICT_ENV)
        content = os.environ.get(CONTENT_ENV, "").strip().lower()
        self.capture_content = content in _CONTENT_ON
        self.content_max_length = _env_int(CONTENT_MAX_ENV, DEFAULT_CONTENT_MAX_LENGTH)
        self.default_tags = split_tags(os.environ.get(DEFAULT_TAGS_ENV))
        self.log_summary = env_flag(SUMMARY_ENV, default=True)
        self.live_interval = _env_seconds(LIVE_INTERVAL_ENV, DEFAULT_LIVE_INTERVAL)
        self.metrics = env_flag(METRICS_ENV, default=True)
        self.propagate_session = env_flag(BAGGAGE_ENV)
        disabled = {n.strip() for n in os.environ.get(DISABLED_ENV, "").split(",")}
        self.disabled = bool(disabled & {"agentops", "*"})
        for _, name, value in self.chosen:
            setattr(self, name, value)


_UTILS = "opentelemetry.instrumentation.utils"


def is_instrumentation_enabled() -> bool:
    """False inside ``suppress_instrumentation()``: the package then makes no span.

    ``opentelemetry.instrumentation.utils`` brings wrapt and more (about half of the
    package's import time): it is loaded at the first check, not at import.
    """
    utils = sys.modules.get(_UTILS) or importlib.import_module(_UTILS)
    return utils.is_instrumentation_enabled()
