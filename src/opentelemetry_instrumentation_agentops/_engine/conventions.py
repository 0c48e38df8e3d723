"""Which spans of other instrumentations count in a session's totals, and as what.

``TABLE`` is the one table for every convention (OpenTelemetry GenAI, OpenInference,
OpenLLMetry): a span is an LLM or a tool call when an attribute has one of a row's
values, and its tokens and cost are the first attribute of the rows of that kind it
carries. Tokens and cost count on calls only, so a framework's agent span that sums its
calls adds nothing. A call's messages (read only while content is captured) are the
first row of their kind that the span carries: a JSON list of messages, or messages
flattened into indexed attributes (a key with ``{i}`` and ``{field}``).

Three more kinds of rows tell one model call traced by a framework and by the client
library apart (``calls.py`` applies them): ``client library`` rows name the instrumentation
scopes of LLM client libraries (a name matches itself and its sub-scopes, ``<name>.v1``);
``model answered`` rows name what only a span that reached a model carries (messages, a
response; a key ending in ``.`` matches the attributes under it; every token row counts
too); ``model`` rows name the model, and a client call covers a framework call only when
their models agree. A model name alone is no sign of an answer: OpenInference's LlamaIndex
tracer writes the LLM's model on its request-preparation step too. Supporting a new
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
CLIENT = "client library"  # rows whose key is SCOPE: the scopes of LLM client instrumentations
ANSWERED = "model answered"  # rows of attributes only a span that reached a model carries
MODEL = "model"  # rows of attributes naming the model
SCOPE = "otel.scope.name"  # the instrumentation scope's name, as OpenTelemetry names it
USAGE = (INPUT_TOKENS, OUTPUT_TOKENS, COST)  # the order of ``usage()``'s answer
INPUT_MESSAGES = "input messages"  # what an LLM call was sent
OUTPUT_MESSAGES = "output messages"  # what it answered


class Row(NamedTuple):
    kind: str  # one of the ten above
    key: str  # the attribute
    values: frozenset[str] = frozenset()  # for a call: the values that make one
    convention: str = ""


_GENAI, _OPENINFERENCE, _OPENLLMETRY = "OpenTelemetry GenAI", "OpenInference", "OpenLLMetry"
_LEGACY_GENAI = "OpenTelemetry GenAI before 1.27"
# LLM client libraries whose instrumentations OpenInference and OpenLLMetry name by the library.
_CLIENTS = (
    "openai",
    "anthropic",
    "bedrock",
    "google_genai",
    "vertexai",
    "mistralai",
    "groq",
    "cohere",
    "litellm",
    "ollama",
)

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
    # The instrumentations of LLM client libraries: their span is the model call.
    Row(
        CLIENT,
        SCOPE,
        frozenset(
            f"opentelemetry.instrumentation.genai.{library}"
            for library in ("openai", "anthropic", "google_genai", "vertexai", "bedrock")
        ),
        "OpenTelemetry GenAI (official)",
    ),
    Row(
        CLIENT,
        SCOPE,
        frozenset(
            {
                "opentelemetry.instrumentation.openai_v2",
                "opentelemetry.instrumentation.google_genai",
            }
        ),
        "OpenTelemetry contrib",
    ),
    Row(
        CLIENT,
        SCOPE,
        frozenset(f"openinference.instrumentation.{n}" for n in _CLIENTS),
        _OPENINFERENCE,
    ),
    Row(
        CLIENT,
        SCOPE,
        frozenset(f"opentelemetry.instrumentation.{n}" for n in _CLIENTS),
        _OPENLLMETRY,
    ),
    # What a span that reached a model carries: messages sent or received, a response.
    Row(ANSWERED, attr.INPUT_MESSAGES, convention=_GENAI),
    Row(ANSWERED, attr.OUTPUT_MESSAGES, convention=_GENAI),
    Row(ANSWERED, "gen_ai.response.id", convention=_GENAI),
    Row(ANSWERED, "gen_ai.response.model", convention=_GENAI),
    Row(ANSWERED, "gen_ai.response.finish_reasons", convention=_GENAI),
    Row(ANSWERED, "llm.input_messages.", convention=_OPENINFERENCE),
    Row(ANSWERED, "llm.output_messages.", convention=_OPENINFERENCE),
    Row(ANSWERED, "llm.prompts", convention=_OPENINFERENCE),
    Row(ANSWERED, "llm.prompts.", convention=_OPENINFERENCE),
    Row(ANSWERED, "gen_ai.prompt.", convention=_OPENLLMETRY),
    Row(ANSWERED, "gen_ai.completion.", convention=_OPENLLMETRY),
    Row(MODEL, attr.REQUEST_MODEL, convention=_GENAI),
    Row(MODEL, "gen_ai.response.model", convention=_GENAI),
    Row(MODEL, "llm.model_name", convention=_OPENINFERENCE),
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
KEYS = frozenset(row.key for row in TABLE if row.kind in (LLM_CALL, TOOL_CALL, *USAGE))
_CLIENT_SCOPES = frozenset(name for row in TABLE if row.kind == CLIENT for name in row.values)
_ANSWERED = tuple(row.key for row in TABLE if row.kind == ANSWERED)
_ANSWERED_KEYS = frozenset(
    key for key in _ANSWERED + _USAGE_KEYS[0] + _USAGE_KEYS[1] if not key.endswith(".")
)
_ANSWERED_PREFIXES = tuple(key for key in _ANSWERED if key.endswith("."))
_MODEL_KEYS = frozenset(row.key for row in TABLE if row.kind == MODEL)
_NO_MODELS: frozenset[str] = frozenset()
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


def is_client_scope(name: str | None) -> bool:
    """Whether ``name`` is the scope of an LLM client library's instrumentation (or under one).

    A few dozen string operations: the caller keeps the answers (scope names are few).
    """
    if name is None:
        return False
    parts = name.split(".")
    return any(".".join(parts[:end]) in _CLIENT_SCOPES for end in range(len(parts), 0, -1))


def answered(attributes: Mapping[str, Any]) -> bool:
    """Whether a span carries a sign that it reached a model: messages, a response, usage."""
    if not _ANSWERED_KEYS.isdisjoint(attributes):
        return True
    return any(key.startswith(_ANSWERED_PREFIXES) for key in attributes)


def models(attributes: Mapping[str, Any]) -> frozenset[str]:
    """The model names a span carries, lower case, without a ``provider/`` prefix."""
    # One pass over the span's keys, as in present(): a missing key costs an SDK span a KeyError.
    found = [attributes[key] for key in _MODEL_KEYS.intersection(attributes)]
    names = [v.rsplit("/", 1)[-1].lower() for v in found if isinstance(v, str) and v]
    return frozenset(names) if names else _NO_MODELS


def models_agree(one: frozenset[str], other: frozenset[str]) -> bool:
    """Whether two calls may be one: either names no model, or a name of one starts another's.

    A response's model is often the request's with a date (``gpt-4o-mini-2024-07-18``).
    """
    if not one or not other:
        return True
    return any(a.startswith(b) or b.startswith(a) for a in one for b in other)


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
