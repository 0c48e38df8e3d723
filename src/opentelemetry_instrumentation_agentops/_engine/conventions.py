"""Which spans of other instrumentations count in a session's totals, and as what.

``TABLE`` is the one table for every convention (OpenTelemetry GenAI, OpenInference,
OpenLLMetry): a span is an LLM or a tool call when an attribute has one of a row's
values, and its tokens and cost are the first attribute of the rows of that kind it
carries. Tokens and cost count on calls only, so a framework's agent span that sums its
calls adds nothing. A call's messages (read only while content is captured) are the
first row of their kind that the span carries: a JSON list of messages, or messages
flattened into indexed attributes (a key with ``{i}`` and ``{field}``). Supporting a new
convention adds rows, not code paths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from . import attributes as attr

LLM_CALL = "llm call"
TOOL_CALL = "tool call"
INPUT_TOKENS = "input tokens"
OUTPUT_TOKENS = "output tokens"
COST = "cost"
USAGE = (INPUT_TOKENS, OUTPUT_TOKENS, COST)  # the order of ``usage()``'s answer
INPUT_MESSAGES = "input messages"  # what an LLM call was sent
OUTPUT_MESSAGES = "output messages"  # what it answered


class Row(NamedTuple):
    kind: str  # one of the seven above
    key: str  # the attribute
    values: frozenset[str] = frozenset()  # for a call: the values that make one
    convention: str = ""


_GENAI, _OPENINFERENCE, _OPENLLMETRY = "OpenTelemetry GenAI", "OpenInference", "OpenLLMetry"
_LEGACY_GENAI = "OpenTelemetry GenAI before 1.27"

TABLE: tuple[Row, ...] = (
    Row(
        LLM_CALL,
        attr.OPERATION_NAME,
        frozenset({attr.OP_CHAT, "text_completion", "generate_content"}),
        _GENAI,
    ),
    Row(TOOL_CALL, attr.OPERATION_NAME, frozenset({attr.OP_EXECUTE_TOOL}), _GENAI),
    Row(LLM_CALL, "openinference.span.kind", frozenset({"LLM"}), _OPENINFERENCE),
    Row(TOOL_CALL, "openinference.span.kind", frozenset({"TOOL"}), _OPENINFERENCE),
    Row(LLM_CALL, "llm.request.type", frozenset({"chat", "completion"}), _OPENLLMETRY),
    Row(TOOL_CALL, "traceloop.span.kind", frozenset({"tool"}), _OPENLLMETRY),
    Row(INPUT_TOKENS, attr.INPUT_TOKENS, convention=_GENAI),
    Row(INPUT_TOKENS, attr.LEGACY_INPUT_TOKENS, convention=_LEGACY_GENAI),
    Row(INPUT_TOKENS, "llm.token_count.prompt", convention=_OPENINFERENCE),
    Row(INPUT_TOKENS, "llm.usage.prompt_tokens", convention=_OPENLLMETRY),
    Row(OUTPUT_TOKENS, attr.OUTPUT_TOKENS, convention=_GENAI),
    Row(OUTPUT_TOKENS, attr.LEGACY_OUTPUT_TOKENS, convention=_LEGACY_GENAI),
    Row(OUTPUT_TOKENS, "llm.token_count.completion", convention=_OPENINFERENCE),
    Row(OUTPUT_TOKENS, "llm.usage.completion_tokens", convention=_OPENLLMETRY),
    Row(COST, attr.LLM_COST, convention="this package"),
    Row(COST, attr.TOOL_COST, convention="this package"),
    Row(COST, "llm.cost.total", convention=_OPENINFERENCE),
    Row(INPUT_MESSAGES, attr.INPUT_MESSAGES, convention=_GENAI),
    Row(INPUT_MESSAGES, "llm.input_messages.{i}.message.{field}", convention=_OPENINFERENCE),
    Row(INPUT_MESSAGES, "gen_ai.prompt.{i}.{field}", convention=_OPENLLMETRY),
    Row(INPUT_MESSAGES, "input.value", convention=_OPENINFERENCE),
    Row(OUTPUT_MESSAGES, attr.OUTPUT_MESSAGES, convention=_GENAI),
    Row(OUTPUT_MESSAGES, "llm.output_messages.{i}.message.{field}", convention=_OPENINFERENCE),
    Row(OUTPUT_MESSAGES, "gen_ai.completion.{i}.{field}", convention=_OPENLLMETRY),
    Row(OUTPUT_MESSAGES, "output.value", convention=_OPENINFERENCE),
)

# Built once from the table: attribute -> value -> kind of call, and the usage keys in order.
_CALL_ROWS = tuple(row for row in TABLE if row.kind in (LLM_CALL, TOOL_CALL))
_CALLS = MappingProxyType(
    {
        key: MappingProxyType(
            {value: row.kind for row in _CALL_ROWS if row.key == key for value in row.values}
        )
        for key in dict.fromkeys(row.key for row in _CALL_ROWS)
    }
)
_USAGE_KEYS: tuple[tuple[str, ...], ...] = tuple(
    tuple(row.key for row in TABLE if row.kind == kind) for kind in USAGE
)
CALL_KEYS = frozenset(_CALLS)
# One pass over a span's keys tells whether it has any key of the table: most spans have none.
KEYS = frozenset(row.key for row in TABLE if row.kind not in (INPUT_MESSAGES, OUTPUT_MESSAGES))
_MESSAGE_KEYS = MappingProxyType(
    {
        kind: tuple(row.key for row in TABLE if row.kind == kind)
        for kind in (INPUT_MESSAGES, OUTPUT_MESSAGES)
    }
)
_MAX_MESSAGES = 1000  # indexed messages read at most from one span


def present(attributes: Mapping[str, Any], keys: Any = None) -> dict[str, Any]:
    """The attributes of the table that a span carries, as a plain dict.

    One pass over the span's keys (or over ``keys``, its keys already read): looking up a
    key an SDK span lacks raises and catches a KeyError inside, which ``call_kind`` and
    ``usage`` would otherwise do a dozen times.
    """
    return {key: attributes[key] for key in KEYS.intersection(attributes if keys is None else keys)}


def call_kind(found: Mapping[str, Any]) -> str | None:
    """``LLM_CALL``, ``TOOL_CALL`` or None: the first row that ``present()``'s answer matches."""
    for key, kinds in _CALLS.items():
        value = found.get(key)
        if value is not None:
            try:
                kind = kinds.get(value)
            except TypeError:  # an unhashable value matches no row
                continue
            if kind is not None:
                return kind
    return None


def usage(found: Mapping[str, Any]) -> tuple[tuple[str, Any] | None, ...]:
    """Input tokens, output tokens and cost in ``present()``'s answer: (key, value) each,
    None where absent.

    Values are as written: the caller keeps only valid counts and costs, and names the
    key of one that is not.
    """
    values: list[tuple[str, Any] | None] = [None, None, None]
    for index, keys in enumerate(_USAGE_KEYS):
        for key in keys:
            value = found.get(key)
            if value is not None:
                values[index] = (key, value)
                break
    return tuple(values)


def message_text(attributes: Mapping[str, Any], kind: str) -> str | None:
    """The text of an LLM call's last user message (``INPUT_MESSAGES``) or of its answer
    (``OUTPUT_MESSAGES``), from the first row of ``kind`` the span carries; None without one.
    """
    for key in _MESSAGE_KEYS[kind]:
        if "{i}" in key:
            messages: Any = _indexed(attributes, key)
        else:
            value = attributes.get(key)
            messages = None if value is None else _decoded(value)
        if messages:
            return _user_text(messages) if kind is INPUT_MESSAGES else _answer_text(messages)
    return None


def _indexed(attributes: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """Messages flattened into ``key`` with ``{i}`` = 0, 1, ... and ``{field}`` = role, content."""
    found = []
    for index in range(_MAX_MESSAGES):
        role = attributes.get(key.format(i=index, field="role"))
        content = attributes.get(key.format(i=index, field="content"))
        if role is None and content is None:
            break
        found.append({"role": role, "content": content})
    return found


def _decoded(value: Any) -> Any:
    """A list of messages from a JSON attribute, or the value itself as one message's text.

    Reads GenAI's message list, an OpenAI request (``messages``) or response (``choices``)
    as OpenInference's ``input.value`` / ``output.value`` hold them, and plain text.
    """
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return [value]  # plain text
    if isinstance(decoded, Mapping):
        if isinstance(decoded.get("messages"), list):
            return decoded["messages"]
        choices = decoded.get("choices")
        if isinstance(choices, list):
            return [c.get("message") for c in choices if isinstance(c, Mapping)]
        return [value]
    if isinstance(decoded, list):
        return decoded
    return [decoded] if isinstance(decoded, str) else [value]


def _user_text(messages: list[Any]) -> str | None:
    """The last user message's text; the last text when no message says its role."""
    roles = [m.get("role") if isinstance(m, Mapping) else None for m in messages]
    any_role = any(role is not None for role in roles)
    for message, role in zip(reversed(messages), reversed(roles), strict=True):
        if any_role and str(role).lower() != "user":
            continue
        text = _text(message)
        if text is not None:
            return text
    return None


def _answer_text(messages: list[Any]) -> str | None:
    """The text of the first answer (choice) that has any."""
    for message in messages:
        text = _text(message)
        if text is not None:
            return text
    return None


def _text(message: Any) -> str | None:
    """A message's text: GenAI's text parts, OpenAI's content (a string or text parts)."""
    if isinstance(message, str):
        return message or None
    if not isinstance(message, Mapping):
        return None
    parts = message.get("parts")
    if isinstance(parts, list):
        texts = [
            p["content"]
            for p in parts
            if isinstance(p, Mapping)
            and p.get("type") == "text"
            and isinstance(p.get("content"), str)
        ]
    else:
        content = message.get("content")
        if isinstance(content, str):
            return content or None
        if not isinstance(content, list):
            return None
        texts = [
            p if isinstance(p, str) else p.get("text")
            for p in content
            if isinstance(p, str) or (isinstance(p, Mapping) and isinstance(p.get("text"), str))
        ]
    return "\n".join(texts) or None
