"""Which spans of other instrumentations count in a session's totals, and as what.

``TABLE`` is the one table for every convention (OpenTelemetry GenAI, OpenInference,
OpenLLMetry): a span is an LLM or a tool call when an attribute has one of a row's
values, and its tokens and cost are the first attribute of the rows of that kind it
carries. Tokens and cost count on calls only, so a framework's agent span that sums its
calls adds nothing. Supporting a new convention adds rows, not code paths.
"""

from __future__ import annotations

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


class Row(NamedTuple):
    kind: str  # one of the five above
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
KEYS = frozenset(row.key for row in TABLE)


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
