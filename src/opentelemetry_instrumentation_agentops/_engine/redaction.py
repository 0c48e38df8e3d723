"""Secrets never reach telemetry: which keys name one, and which values look like one.

A mapping key, an attribute's name or a pair's name may name a secret (``api_key``,
``Set-Cookie``, ``sentry_dsn``; docs/security.rst lists the rules): its value is replaced by
``[REDACTED]``. In any text, :func:`redact_text` also replaces the values that look like
secrets whatever their name: ``Bearer`` credentials, provider key formats, a URL's password
and ``name=value`` or ``"name": "value"`` pairs with a secret's name. ``content`` applies
both to what is captured and to the few free texts written whatever the capture setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

REDACTED = "[REDACTED]"
# A key names a secret when, lowercased and without "-", "_", "." and spaces, it holds one of
# these, or "token" ("tokenizer" is none), or has "dsn" as a word of its own ("sentry_dsn",
# "sentryDsn", not "ads_network" nor "needsNotification").
_SECRET_WORDS = re.compile(
    r"apikey|authorization|cookie|pass(?:word|wd|phrase)|pwd|secret|jwt|privatekey|sshkey"
    r"|credential|sessionkey|connectionstring"
)
_TOKEN = re.compile(r"token(?!i[sz](?:e|ation))")
_DSN = re.compile(r"(?:^|[-_. ])(?i:dsn)(?:$|[-_. ])|[a-z](?:Dsn|DSN)(?![a-z])")
_KEY_NOISE = MappingProxyType(str.maketrans("", "", "-_. "))
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
_STEMS = (
    *("key", "auth", "cookie", "pass", "pwd", "secret", "token", "jwt", "credential"),
    *("connection", "dsn"),
)
_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
_QUOTED = r"\"(?:[^\"\\]|\\.){0,1024}\"|'(?:[^'\\]|\\.){0,1024}'"
_PAIR = re.compile(
    r"(?P<quote>[\"']?)(?P<name>[A-Za-z_][\w.\-]{0,63})(?P=quote)[ \t]*(?:=|:(?!//))[ \t]*"
    r"(?P<value>" + _QUOTED + r"|(?:(?i:basic|bearer|digest|token)[ \t]+)?"
    r"(?:\[REDACTED\]|[^\s?&#;,\"'<>()\[\]{}]+))",
    re.ASCII,
)
_ASCII_LOWER = MappingProxyType(str.maketrans(_NAME_CHARS[:26], _NAME_CHARS[26:52]))
_PAIR_LEAD = frozenset("?&;,([{'\" \t\r\n\f\v")  # what a pair's name may follow, or the start
_NO_COUNT = ("null", "None")  # a token count not given, in JSON or a repr


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
    starts: set[int] = set()
    for stem in _STEMS:
        found = low.find(stem)
        while found >= 0:  # back to the start of the name the word is in
            head = text[max(0, found - 64) : found]
            starts.add(found - len(head) + len(head.rstrip(_NAME_CHARS)))
            found = low.find(stem, found + len(stem))
    pieces: list[str] = []
    done = 0
    for start in sorted(starts):
        if start < done or (start and text[start - 1] not in _PAIR_LEAD):
            continue
        match = None
        if start and text[start - 1] in "'\"":  # a quoted name, or a pair in a quoted text
            match = _PAIR.match(text, start - 1)
        match = match or _PAIR.match(text, start)
        hidden = None if match is None else _hidden_pair(match)
        if match is not None and hidden is not None:
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
