"""Content capture: JSON, size caps and secret redaction.

Prompts, completions, parameters, return values and tool arguments are only
recorded when the user opts in (``capture_content=True`` or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``). Captured values are
serialised to JSON, cut to ``content_max_length`` characters (default 4096) and
every mapping key that looks like a secret has its value replaced by
``[REDACTED]``. Serialisation never raises: cycles, deep nesting and objects
whose ``repr`` fails all become placeholder strings.

Secrets never reach telemetry (design.md section 7, docs/security.rst): besides
the keys, every text captured, and the few free texts written whatever the
capture setting (error details, exception messages, end-state reasons, legacy
keywords: :func:`safe_text`), has the values that look like secrets redacted
(:func:`redact_text`): ``Bearer`` credentials, provider key formats, a URL's
password and ``name=value`` or ``"name": "value"`` pairs with a secret's name.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import re
from collections.abc import Mapping
from typing import Any

from .config import settings
from .errors import InvalidArgumentError, report
from .log import logger

REDACTED = "[REDACTED]"
TRUNCATED = "...[truncated]"
# A key names a secret when, lowercased and without "-", "_", "." and spaces, it holds one of
# these, or "token" ("tokenizer" is none), or has "dsn" as a word of its own ("sentry_dsn",
# "sentryDsn", not "ads_network" nor "needsNotification").
_SECRET_WORDS = re.compile(
    r"apikey|authorization|cookie|pass(?:word|wd|phrase)|pwd|secret|jwt|privatekey|sshkey"
    r"|credential|sessionkey|connectionstring"
)
_TOKEN = re.compile(r"token(?!i[sz](?:e|ation))")
_DSN = re.compile(r"(?:^|[-_. ])(?i:dsn)(?:$|[-_. ])|[a-z](?:Dsn|DSN)(?![a-z])")
_KEY_NOISE = str.maketrans("", "", "-_. ")
# Values that are secrets whatever their key, in any text: a Bearer credential, a URL's
# password (scheme, user and host are kept) and the key formats of providers (OpenAI,
# Anthropic, Stripe, GitHub, Slack, Google; an ``sk-`` key has a digit, "sk-learn-..." none).
# Each is looked for only when a substring test says it may be there; no nested repeats, and
# each repeat ends where the next part cannot start: linear on any input.
_BEARER = re.compile(r"\b((?i:bearer)\s+)[A-Za-z0-9\-._~+/]{8,}=*", re.ASCII)
_USERINFO = re.compile(r"(://[^\s:/?#@]{0,256}:)[^\s/?#]{0,1024}@")
_PROVIDER_KEY = re.compile(
    r"\b(?:sk-[\w\-]{12,}|[rs]k_(?:live|test)_\w{10,}"
    r"|gh[oprsu]_\w{30,}|github_pat_\w{30,}|xox[abeoprs]-[\w\-]{10,}|AIza[\w\-]{35})",
    re.ASCII,
)
_GITHUB_HINT = re.compile(r"gh[oprsu]_|github_pat_")
_DIGIT = re.compile("[0-9]")
# A ``name=value`` or ``name: value`` pair, the name maybe quoted (a URL's query, a form, a
# header, JSON, YAML, a repr), matched where a secret's word is (_redact_pairs): its value is
# redacted when the whole name is a secret's.
_STEMS = ("key", "auth", "cookie", "pass", "pwd", "secret", "token", "jwt", "credential")
_STEMS += ("connection", "dsn")
_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
_QUOTED = r"\"(?:[^\"\\]|\\.){0,1024}\"|'(?:[^'\\]|\\.){0,1024}'"
_PAIR = re.compile(
    r"(?P<quote>[\"']?)(?P<name>[A-Za-z_][\w.\-]{0,63})(?P=quote)[ \t]*(?:=|:(?!//))[ \t]*"
    r"(?P<value>" + _QUOTED + r"|(?:(?i:basic|bearer|digest|token)[ \t]+)?"
    r"(?:\[REDACTED\]|[^\s?&#;,\"'<>()\[\]{}]+))",
    re.ASCII,
)
_ASCII_LOWER = str.maketrans(_NAME_CHARS[:26], _NAME_CHARS[26:52])
_PAIR_LEAD = frozenset("?&;,([{'\" \t\r\n\f\v")  # what a pair's name may follow, or the start
_NO_COUNT = ("null", "None")  # a token count not given, in JSON or a repr
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


def _secret_kind(key: object) -> str | None:
    """What secret ``key`` names: None, "token", "tokens" (maybe a count) or "other"."""
    if isinstance(key, (bytes, bytearray)):
        key = bytes(key).decode("utf-8", "replace")
    if not isinstance(key, str):
        return None
    text = key.lower().translate(_KEY_NOISE)
    if _SECRET_WORDS.search(text) is not None or _DSN.search(key) is not None:
        return "other"
    if _TOKEN.search(text) is not None:
        return "tokens" if "tokens" in text else "token"
    return None


def is_secret_key(key: object) -> bool:
    """Whether ``key`` names a secret: ``API-Key``, ``x_api_key``, ``Set-Cookie``, ``dsn``, ..."""
    return _secret_kind(key) is not None


def hides(key: object, value: object) -> bool:
    """Whether ``value`` under ``key`` is redacted.

    Keys that look like secrets are; under a ``...tokens`` key that names no other secret
    (``max_tokens``, ``prompt_tokens``, ``prompt_tokens_details``) an integer is a token count
    and is kept, and a mapping is kept with its own keys checked.
    """
    kind = _secret_kind(key)
    if kind == "tokens":
        count = isinstance(value, int) and not isinstance(value, bool)
        return not (count or isinstance(value, Mapping))
    return kind is not None


def _hide_key(match: re.Match[str]) -> str:
    key = match.group()
    return key if key.startswith("sk-") and _DIGIT.search(key) is None else REDACTED


def _hidden_pair(match: re.Match[str]) -> str | None:
    """The pair ``match`` with its value redacted, or None when its name is no secret's."""
    value = match.group("value")
    kind = _secret_kind(match.group("name"))
    if kind is None or (kind == "tokens" and (value.isdigit() or value in _NO_COUNT)):
        return None  # no secret's name, or max_tokens=100
    quote = value[0] if value[0] in "'\"" else ""
    return match.group()[: match.start("value") - match.start()] + quote + REDACTED + quote


def _redact_pairs(text: str, low: str) -> str:
    """``text`` with the values of its secret-named pairs redacted (``low``: it lowercased)."""
    starts = set()
    for stem in _STEMS:
        found = low.find(stem)
        while found >= 0:  # back to the start of the name the word is in
            head = text[max(0, found - 64) : found]
            starts.add(found - len(head) + len(head.rstrip(_NAME_CHARS)))
            found = low.find(stem, found + len(stem))
    pieces, done = [], 0
    for start in sorted(starts):
        if start < done or (start and text[start - 1] not in _PAIR_LEAD):
            continue
        match = None
        if start and text[start - 1] in "'\"":  # a quoted name, or a pair in a quoted text
            match = _PAIR.match(text, start - 1)
        match = match or _PAIR.match(text, start)
        hidden = None if match is None else _hidden_pair(match)
        if hidden is not None:
            pieces += (text[done : match.start()], hidden)
            done = match.end()
    return "".join((*pieces, text[done:])) if pieces else text


def redact_text(text: str) -> str:
    """``text`` with every value that looks like a secret replaced by ``[REDACTED]``."""
    # One-character tests first: they cost next to nothing (memchr).
    colon = ":" in text
    if colon and "://" in text:
        text = _USERINFO.sub(r"\1" + REDACTED + "@", text)
    if (
        ("-" in text and ("sk-" in text or "xox" in text))
        or ("_" in text and ("k_live_" in text or "k_test_" in text or _GITHUB_HINT.search(text)))
        or "AIza" in text
    ):
        text = _PROVIDER_KEY.sub(_hide_key, text)
    low = _lower(text)
    if "bearer" in low:
        text = _BEARER.sub(r"\1" + REDACTED, text)
        low = _lower(text)
    if colon or "=" in text:
        text = _redact_pairs(text, low)
    return text


def _lower(text: str) -> str:
    """``text`` lowercased, each character where it was (``"İ".lower()`` is two)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


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
    limit = settings.content_max_length
    try:
        text = json.dumps(_plain(value, 0, set(), limit), ensure_ascii=False, default=_placeholder)
    except Exception:
        text = json.dumps(_placeholder(value))
    text = utf8(text)  # in a JSON string, the escape reads back as the same character
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def capture(attributes: dict[str, Any], key: str, value: object) -> None:
    """Add ``value`` as JSON under ``key`` when content capture is on."""
    if value is not None and settings.capture_content:
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
        return safe_str(value, settings.content_max_length)
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
    return safe_text(value, settings.content_max_length)
