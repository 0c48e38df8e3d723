"""Hypothesis strategies for bad input: wrong types, huge, deep, cyclic and hostile values.

Strategies draw ``Thunk``s: a label (what Hypothesis prints for a failing example) and a
function that builds the value inside the test. Values whose ``repr`` raises, cycles and
ten-thousand-deep nests would otherwise break the report of the very failure they found.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import itertools
import uuid
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import strategies as st

import opentelemetry_instrumentation_agentops as agentops

from .checks import LEDGER


@dataclasses.dataclass(frozen=True)
class Thunk:
    label: str
    make: Callable[[], Any]

    def __repr__(self) -> str:
        return self.label


def const(value: Any, label: str | None = None) -> Thunk:
    return Thunk(label or repr(value)[:80], lambda: value)


# -- hostile objects --------------------------------------------------------------------


class Boom(Exception):
    pass


class Hostile:
    """Every conversion and protocol fails (but it is truthy and hashable)."""

    def __repr__(self) -> str:
        raise Boom("repr")

    def __str__(self) -> str:
        raise Boom("str")

    def __format__(self, spec: str) -> str:
        raise Boom("format")

    def __eq__(self, other: object) -> bool:
        raise Boom("eq")

    __hash__ = object.__hash__

    def __iter__(self) -> Iterator[Any]:
        raise Boom("iter")

    def __len__(self) -> int:
        raise Boom("len")

    def __getattr__(self, name: str) -> Any:
        raise Boom(f"getattr {name}")


class NotAString:
    """``__str__`` and ``__repr__`` return something that is not a string."""

    def __str__(self) -> Any:
        return 42

    __repr__ = __str__


class HugeRepr:
    def __repr__(self) -> str:
        return "R" * 1_000_000

    __str__ = __repr__


class BrokenMapping(Mapping):
    def __getitem__(self, key: Any) -> Any:
        raise Boom("getitem")

    def __iter__(self) -> Iterator[Any]:
        raise Boom("iter")

    def __len__(self) -> int:
        return 3


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise Boom("exception str")

    __repr__ = __str__


class Color(enum.Enum):
    RED = 1
    SUCCESS = "Success"  # an enum that looks like an end state


@dataclasses.dataclass(slots=True)
class Slotted:
    api_key: str = "sk-slotted-secret"
    value: Any = None


Pair = namedtuple("Pair", ["password", "other"])


class WithDict:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _cyclic_dict() -> dict:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    value["list"] = [value]
    return value


def _cyclic_object() -> WithDict:
    value = WithDict(name="loop")
    value.me = value
    return value


def _many(n: int) -> Iterator[int]:
    yield from range(n)


HOSTILE = [
    Thunk("Hostile()", Hostile),
    Thunk("NotAString()", NotAString),
    Thunk("HugeRepr()", HugeRepr),
    Thunk("BrokenMapping()", BrokenMapping),
    Thunk("UnprintableError()", lambda: UnprintableError()),
    Thunk("deep list (10,000 levels)", lambda: _deep(10_000)),
    Thunk("cyclic dict", _cyclic_dict),
    Thunk("cyclic object", _cyclic_object),
    Thunk("Slotted()", Slotted),
    Thunk("Pair(password=..)", lambda: Pair("pw-secret", 1)),
    Thunk("generator of 100,000", lambda: _many(100_000)),
    Thunk("itertools.count()", itertools.count),
    Thunk("object()", object),
    Thunk("a class", lambda: Hostile),
    Thunk("a function", lambda: len),
    Thunk("lambda", lambda: lambda *a: a),
    Thunk("a module", lambda: itertools),
    Thunk("Color.RED", lambda: Color.RED),
    Thunk("Color.SUCCESS", lambda: Color.SUCCESS),
    Thunk("ValueError('x')", lambda: ValueError("x")),
    Thunk("Decimal('NaN')", lambda: decimal.Decimal("NaN")),
    Thunk("complex", lambda: complex(1, -1)),
    Thunk("bytes", lambda: b"\xff\xfe api_key"),
    Thunk("bytearray", lambda: bytearray(b"abc")),
    Thunk("datetime.min", lambda: datetime.datetime.min),
    Thunk("datetime.max", lambda: datetime.datetime.max),
    Thunk("aware datetime", lambda: datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)),
    Thunk("date", lambda: datetime.date(2024, 2, 29)),
    Thunk("uuid4", uuid.uuid4),
    Thunk("UUID(int=0)", lambda: uuid.UUID(int=0)),
    Thunk("Ellipsis", lambda: ...),
    Thunk("frozenset", lambda: frozenset({1, "a"})),
    Thunk("an ActionEvent", lambda: agentops.ActionEvent(action_type="nested")),
    Thunk("a Session", lambda: agentops.start_session(name="as-a-value")),
]

# Text with lone surrogates, NULs, right-to-left marks and astral characters.
TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
HUGE_SIZES = st.sampled_from([5_000, 100_000, 1_000_000])


@st.composite
def huge_text(draw: st.DrawFn) -> Thunk:
    unit = draw(st.sampled_from(["x", "\U0001f600", "\ud800", "é", "\x00"]))
    size = draw(HUGE_SIZES)
    return Thunk(f"{unit!r} * {size}", lambda: unit * size)


SCALARS = st.one_of(
    st.none().map(const),
    st.booleans().map(const),
    st.integers().map(const),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -(10**400)]).map(const),
    st.floats().map(const),
    TEXT.map(const),
    huge_text(),
)

LEAVES = st.one_of(SCALARS, st.sampled_from(HOSTILE))

# For flags: any type, but a truthiness that works (``bool()`` of the value does not raise).
FLAGS = st.one_of(
    SCALARS, st.sampled_from([const([]), const({}), const(object(), "object()"), const(len)])
)


def _list(children: list[Thunk]) -> Thunk:
    return Thunk(f"[{', '.join(map(repr, children))}]", lambda: [c.make() for c in children])


def _tuple(children: list[Thunk]) -> Thunk:
    return Thunk(f"tuple({_list(children)!r})", lambda: tuple(c.make() for c in children))


def _dict(items: list[tuple[str, Thunk]]) -> Thunk:
    label = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in items) + "}"
    return Thunk(label, lambda: {k: v.make() for k, v in items})


def _object(items: list[tuple[str, Thunk]]) -> Thunk:
    label = "WithDict(" + ", ".join(f"{k}={v!r}" for k, v in items) + ")"
    return Thunk(label, lambda: WithDict(**{k: v.make() for k, v in items}))


KEYS = st.one_of(TEXT, st.sampled_from(["api_key", "Authorization", "password", "token"]))

VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(_list),
        st.lists(children, max_size=4).map(_tuple),
        st.lists(st.tuples(KEYS, children), max_size=4).map(_dict),
        st.lists(st.tuples(KEYS.filter(str.isidentifier), children), max_size=3).map(_object),
    ),
    max_leaves=8,
)
"""Any value at all: what a wrong-typed argument or event field may be."""


def values() -> st.SearchStrategy[Thunk]:
    return VALUES


def made(thunk: Thunk) -> Any:
    """Build the value, and count it among the generated inputs."""
    LEDGER["inputs generated"] += 1
    return thunk.make()
