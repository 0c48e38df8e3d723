"""Content capture: JSON, size caps and secret redaction.

Prompts, completions, parameters, return values and tool arguments are only
recorded when the user opts in (``capture_content=True`` or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``). Captured values are
serialised to JSON and cut to ``content_max_length`` characters (default 4096).
Serialisation never raises: cycles, deep nesting and objects whose ``repr`` fails
all become placeholder strings.

Secrets never reach telemetry (``redaction``, docs/security.rst): every text
captured, and the few free texts written whatever the capture setting (error
details, exception messages, end-state reasons, legacy keywords:
:func:`safe_text`), has its secret-named keys' values and the values that look
like secrets replaced by ``[REDACTED]``.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
from collections.abc import Mapping
from typing import Any

from .._runtime.owner import RUNTIME
from .._runtime.settings import logger
from .redaction import REDACTED, hides, redact_text
from .types import InvalidArgumentError, report

TRUNCATED = "...[truncated]"
_MARGIN = 1024  # characters past a cap that are redacted before the cut, so none is cut in two
_MAX_DEPTH = 8
_MAX_ITEMS = 100
_SCALARS = (str, int, float, bool, type(None))
INT64 = range(-(2**63), 2**63)  # what an OTLP integer attribute holds


def safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not break the caller
        return f"<unrepresentable {type(value).__name__}>"


def utf8(text: str) -> str:
    """``text`` as OTLP can send it: lone surrogates (invalid UTF-8) become ``\\udXXX``."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def safe_str(value: object, limit: int = 1024) -> str:
    """A short text for names, tags and reasons (not content)."""
    if not isinstance(value, str):
        try:
            value = str(value)
        except Exception:
            value = safe_repr(value)
    if len(value) > limit:
        return utf8(value[:limit])[:limit] + TRUNCATED
    value = utf8(value)
    return value if len(value) <= limit else value[:limit] + TRUNCATED


def _redacted(text: str, limit: int) -> str:
    """``redact_text(text)`` cut to ``limit`` characters; a secret cut by the cap is no clue."""
    if len(text) <= limit + _MARGIN:
        text = redact_text(text)
        return text if len(text) <= limit else text[:limit] + TRUNCATED
    # The tail of what is redacted may hold the start of a secret cut at limit + _MARGIN:
    # never shown, even when redaction before it made the text shorter.
    text = redact_text(text[: limit + _MARGIN])
    return text[: min(limit, len(text) - _MARGIN)] + TRUNCATED


def safe_text(value: object, limit: int = 1024) -> str:
    """Free text the package writes whatever the capture setting (an error's details, an
    exception's message, an end-state reason): capped, with secrets redacted.

    A structure (a dict, a list, a dataclass, a model) is written as JSON with the values of
    its secret-named keys redacted, as captured content is.
    """
    if isinstance(value, (str, BaseException, enum.Enum, *_SCALARS)):
        text = value if isinstance(value, str) else safe_str(value, limit + _MARGIN)
    else:
        text = _plain(value, 0, set(), limit)
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False, default=_placeholder)
    # Made exportable before the cut (a lone surrogate becomes six characters).
    return _redacted(utf8(text[: limit + _MARGIN + 1]), limit)


def _placeholder(value: object) -> str:
    """What a value that cannot be read safely becomes (never its repr: it may hold secrets)."""
    return f"<unreadable {type(value).__name__}>"


def _named_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a dataclass or namedtuple by name, so their keys can be redacted."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return dict(zip(value._fields, value, strict=False))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    return None


def _plain(value: Any, depth: int, seen: set[int], limit: int) -> Any:
    """A JSON-ready copy of ``value``, bounded in depth, breadth and size, secrets redacted."""
    if isinstance(value, str):
        return _redacted(value, limit)
    if isinstance(value, _SCALARS):
        return value
    if depth >= _MAX_DEPTH:
        return "<max depth>"
    if id(value) in seen:
        return "<cycle>"
    seen.add(id(value))
    try:
        if isinstance(value, Mapping):
            items = list(value.items())[:_MAX_ITEMS]
            return {
                _redacted(safe_str(k, 256 + _MARGIN), 256): (
                    REDACTED if hides(k, v) else _plain(v, depth + 1, seen, limit)
                )
                for k, v in items
            }
        fields = _named_fields(value)
        if fields is not None:
            return _plain(fields, depth, seen, limit)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)[:_MAX_ITEMS]
            if len(items) == 2 and isinstance(items[0], str) and hides(items[0], items[1]):
                return [items[0], REDACTED]  # a (name, value) pair, as headers often are
            return [_plain(v, depth + 1, seen, limit) for v in items]
        if "Secret" in type(value).__name__:  # pydantic's SecretStr keeps its value in __dict__
            return REDACTED
        fields = getattr(value, "__dict__", None)
        if isinstance(fields, dict) and fields:
            return _plain(fields, depth, seen, limit)
        return _redacted(safe_str(value, limit + _MARGIN), limit)
    except Exception:  # a mapping whose items() fails, ...: never its repr (a secret's, maybe)
        return _placeholder(value)
    finally:
        seen.discard(id(value))


def to_json(value: object) -> str:
    """Serialise captured content; always returns a string within the size cap."""
    limit = RUNTIME.settings.content_max_length
    try:
        text = json.dumps(_plain(value, 0, set(), limit), ensure_ascii=False, default=_placeholder)
    except Exception:
        text = json.dumps(_placeholder(value))
    text = utf8(text)  # in a JSON string, the escape reads back as the same character
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def content_text(value: object) -> str:
    """Captured content as text: a string as it is, anything else as JSON; capped and
    redacted as all captured content is."""
    if isinstance(value, str):
        return utf8(_plain(value, 0, set(), RUNTIME.settings.content_max_length))
    return to_json(value)


def capture(attributes: dict[str, Any], key: str, value: object) -> None:
    """Add ``value`` as JSON under ``key`` when content capture is on."""
    if value is not None and RUNTIME.settings.capture_content:
        attributes[key] = to_json(value)


def as_float(value: object) -> float | None:
    """``value`` as a float when it is a number (not a bool) a float can hold, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int beyond 1e308
            return None
    return None


def attribute_value(value: object) -> Any:
    """``value`` as a valid OpenTelemetry attribute value (text when it is not one).

    Integers must fit in 64 bits and arrays hold at most 100 items of one type:
    anything else would be dropped by the OTLP encoder, so it is sent as text.
    """
    if isinstance(value, str):
        return safe_str(value, RUNTIME.settings.content_max_length)
    if isinstance(value, (bool, float)) or (isinstance(value, int) and value in INT64):
        return value
    if isinstance(value, (list, tuple)) and 0 < len(value) <= _MAX_ITEMS:
        kind = type(value[0])
        if kind in (str, bool, int, float) and all(type(v) is kind for v in value):
            if kind is str:
                return [safe_str(v) for v in value]
            if kind is not int or all(v in INT64 for v in value):
                return list(value)
    return safe_str(value)


def normalize_tags(tags: Any, limit: int = _MAX_ITEMS) -> list[str]:
    """Tags as a list of at most ``limit`` unique strings; a bare string is one tag."""
    if tags is None:
        return []
    if isinstance(tags, str):
        return [safe_str(tags, 256)]
    try:
        items = list(itertools.islice(tags, limit + 1))  # an endless iterator is no hang
    except Exception:
        report(InvalidArgumentError, f"tags must be a list of strings, got {type(tags).__name__}.")
        items = [tags]
    if len(items) > limit:
        logger.warning("A session keeps at most %d tags; the others were dropped.", limit)
    return list(dict.fromkeys(safe_str(item, 256) for item in items[:limit]))


def user_attributes(attributes: Any) -> dict[str, Any]:
    """A user's ``attributes={...}`` as valid span attributes; anything but a dict is ignored."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        report(InvalidArgumentError, "attributes must be a dict of str to values; ignored.")
        return {}
    return {
        safe_str(k, 256): REDACTED if hides(k, v) else attribute_value(v)
        for k, v in attributes.items()
    }


def safe_attribute(value: object) -> Any:
    """``attribute_value(value)`` for a value exported whatever the capture setting (a legacy
    keyword): its text with secrets redacted."""
    if isinstance(value, (bool, int, float)):
        return attribute_value(value)
    if isinstance(value, (list, tuple)):
        items = attribute_value(value)
        if isinstance(items, list):
            return [redact_text(v) if isinstance(v, str) else v for v in items]
    return safe_text(value, RUNTIME.settings.content_max_length)
