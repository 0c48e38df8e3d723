"""One LLM or tool call, however many spans (instrumentations) trace it: what it counts as.

``counting.CallCounter`` finds a call's spans by their nesting; this module says what a call
is once its outermost span ended, and counts it through its session's ``Totals.count``
(docs/spans.rst, "One model call, two instrumentations"):

- the client library's LLM call is the call (a span of a ``client library`` scope of
  ``conventions.TABLE`` is part of it). A framework's LLM call (none of its spans is a
  client library's) counts only while no client call covers it: a client call covers at
  most one framework call of each instrumentation, one that started no later than it and
  whose model agrees with its own, the nearest first (under the same parent span, then by
  start time), whatever their nesting and recorded times. Whichever of the two ends first,
  the count is right once both have: a framework call counted first is taken back when its
  client call ends, so live snapshots show the calls so far;
- a framework's LLM call none of whose spans reached a model (no messages, no response,
  no usage: LlamaIndex's request-preparation step) is no call, until a span of it that did
  ends;
- two frameworks' LLM calls (no client library's) that ran at the same time without one
  inside the other are one call, the nearest first (two frameworks' tracers on the same
  run, each starting and ending its span at its own callback);
- input tokens, output tokens and cost are each taken from the outermost span of the call
  that carries them, else from the first nested one that does, and never twice; for a
  client call covering a framework call, from the client call, else the framework's.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .conventions import LLM_CALL, models_agree
from .types import USAGE, TotalsLike

NO_USAGE = (None, None, None)
_NO_IDS: frozenset[int] = frozenset()
_NO_MODELS: frozenset[str] = frozenset()
# What a call is, once its outermost span ended (``CountedCall.role``).
OURS = "ours"  # counted where it was made (this package's event or decorator)
_TOOL = "tool"  # a tool call, counted
_CLIENT = "client"  # an LLM client library's call, counted; it may cover framework calls
_FRAMEWORK = "framework"  # a framework's LLM call, counted while no client call covers it
_COVERED = "covered"  # a framework's LLM call that a client call covers: not counted
_UNANSWERED = "unanswered"  # labelled LLM, never reached a model: not counted
_NOT_CLIENT = (_FRAMEWORK, _COVERED, _UNANSWERED)


def scope_name(span: Any) -> str | None:
    scope = span.instrumentation_scope
    return None if scope is None else scope.name


def parent_id(span: Any) -> int:
    parent = span.parent
    return 0 if parent is None else parent.span_id


class CountedCall:
    """One LLM or tool call, however many spans (instrumentations) trace it."""

    __slots__ = (
        "ancestors",
        "answered",
        "client",
        "cover",
        "covers",
        "end",
        "given",
        "head",
        "kind",
        "models",
        "parent",
        "pending",
        "role",
        "scopes",
        "start",
        "totals",
    )

    def __init__(self, kind: str, totals: TotalsLike, head: Any) -> None:
        self.kind, self.totals = kind, totals
        self.head = head.context.span_id  # its outermost span
        self.parent = parent_id(head)
        self.start, self.end = head.start_time, head.end_time
        # The instrumentations whose spans are part of it.
        self.scopes: tuple[str | None, ...] = (scope_name(head),)
        self.role: str | None = None  # what it is, once its outermost span ended
        self.ancestors = _NO_IDS  # the open spans above its outermost span when that ended
        self.pending: Any = NO_USAGE  # the first nested span's usage
        self.given: list[Any] = [None, None, None]  # usage it put in the totals, per field
        # LLM calls: whether a client library's span is part of it, whether any of its spans
        # reached a model, the models they name; the client call that covers this framework
        # call, and the framework scopes whose call this client call covers.
        self.client = self.answered = False
        self.models = _NO_MODELS
        self.cover: CountedCall | None = None
        self.covers: tuple[str | None, ...] = ()

    def note(self, signs: Any) -> None:
        """One of its spans ended, with ``signs``: (client, answered, models)."""
        if signs is not None:
            client, reached, names = signs
            self.client |= client
            self.answered |= reached
            if names:
                self.models |= names

    def count(self, values: Any, role: str) -> None:
        """Count the call once, as ``role``, with ``values`` (its outermost span's usage)."""
        self.role = role
        self.totals.count(self.kind, *self._take(values))

    def add(self, values: Any) -> None:
        """Add each value whose field is not in the totals yet (the covering call's, if any)."""
        if self.cover is not None:
            self.cover.add(values)
        elif self.role is _UNANSWERED:
            self.hold(values)
        else:
            new = self._take(values)
            if new is not NO_USAGE:
                self.totals.count(USAGE, *new)

    def _take(self, values: Any) -> Any:
        """The values whose field is not taken yet, now taken."""
        if values is NO_USAGE:
            return values
        given, new, added = self.given, [None, None, None], False
        for index in (0, 1, 2):
            if values[index] is not None and given[index] is None:
                given[index] = new[index] = values[index]
                added = True
        return new if added else NO_USAGE

    def hold(self, values: Any) -> None:
        """A nested span's values: used when the outermost span carries none."""
        if values is not NO_USAGE:
            pending = self.pending
            self.pending = tuple(
                p if p is not None else v for p, v in zip(pending, values, strict=True)
            )

    def covered_by(self, client: CountedCall) -> Any:
        """Covered by a client call: out of the totals; its usage goes to the client call."""
        given = self.given
        if self.role is _FRAMEWORK:
            self.totals.take_back(LLM_CALL, *given)
        self.role, self.cover, self.given = _COVERED, client, [None, None, None]
        client.covers += self.scopes
        held = self.pending
        self.pending = NO_USAGE
        return tuple(g if g is not None else h for g, h in zip(given, held, strict=True))


class Recent(deque[CountedCall]):
    """A trace's latest calls (``CallCounter``), and whether any was counted as a client
    library's or a framework's: a trace of one kind only skips the search for a pair."""

    def __init__(self, maxlen: int) -> None:
        super().__init__(maxlen=maxlen)
        self.clients = self.frameworks = False


def settle(call: CountedCall, values: Any, recent: Recent) -> None:
    """What a call of other instrumentations is, its outermost span ended; counted so.

    A client library's LLM call counts, and covers the framework calls it is one with;
    a framework's LLM call counts unless a client call covers it, or it never reached a
    model (it may yet: a nested span ending later can show that it did).
    """
    if call.kind is not LLM_CALL:
        call.count(values, _TOOL)
    elif call.client:
        for framework in _covered(recent, call):
            call.hold(framework.covered_by(call))
        call.count(values, _CLIENT)
        recent.clients = True
    elif not call.answered:
        call.role = _UNANSWERED
        call.hold(values)
        return
    else:
        client = _covering(recent, call)
        if client is None:
            call.count(values, _FRAMEWORK)
            recent.frameworks = True
        else:
            call.role, call.cover = _COVERED, client
            client.covers += call.scopes
            client.add(values)
            client.add(call.pending)
            call.pending = NO_USAGE
            return
    call.add(call.pending)


def same_call(recent: Recent, call: CountedCall, scope: str | None) -> CountedCall | None:
    """The call counted already that ``call``, its outermost span just ended, is one with.

    One of that span's descendants first. Else, between two frameworks' calls (a client
    library's are paired by ``_covering``, whatever their times), a call that no span of its
    instrumentation is part of yet and that ran while it ran: one within it first, then the
    one that started nearest to it (two frameworks' tracers on the same run, each starting
    and ending its span at its own callback).
    """
    start, end, head = call.start, call.end, call.head
    if start is None or end is None:
        return None
    found, best = None, None
    for other in reversed(recent):  # latest ended first
        if other.end is not None and other.end < start:
            break  # this one, and every older one, ended before the span started
        if other.kind is not call.kind:
            continue
        if head in other.ancestors:
            return other
        if call.client or other.client or other.role is _COVERED:
            continue
        if scope in other.scopes or other.end is None or other.end < start or other.start > end:
            continue
        rank = (not (start <= other.start and other.end <= end), abs(other.start - start))
        if best is None or rank < best:
            found, best = other, rank
    return found


def grow(call: CountedCall, values: Any, recent: Recent) -> None:
    """More of a call whose outermost span ended: a span of it that ended later, with
    ``values``, or another instrumentation's call found to be the same one."""
    if call.client and call.role in _NOT_CLIENT:
        become_client(call, values, recent)
        return
    call.add(values)
    if call.role is _UNANSWERED:
        settle(call, NO_USAGE, recent)


def become_client(call: CountedCall, values: Any, recent: Recent) -> None:
    """A framework's call, settled already, holds a client library's span that ended after
    it: it is a client call. Counted, it stays counted; covered, it is counted after all, and
    the client call that covered it may cover another."""
    recent.clients = True
    if call.role is _UNANSWERED:
        call.role = None
        settle(call, values, recent)
        return
    if call.role is _FRAMEWORK:
        call.role = _CLIENT
        call.add(values)
        return
    cover = call.cover  # it was covered
    if cover is not None:
        cover.covers = tuple(s for s in cover.covers if s not in call.scopes)
    call.cover = None
    call.count(values, _CLIENT)
    call.add(call.pending)
    if cover is not None:
        for framework in _covered(recent, cover):
            cover.add(framework.covered_by(cover))


def _pairable(framework: CountedCall, client: CountedCall) -> bool:
    """Whether ``client`` may cover ``framework``: started no earlier, no instrumentation twice,
    models that agree."""
    if framework.start is None or client.start is None or client.start < framework.start:
        return False
    if any(scope in client.covers or scope in client.scopes for scope in framework.scopes):
        return False
    return models_agree(framework.models, client.models)


def _rank(one: CountedCall, other: CountedCall) -> tuple[bool, int]:
    """Nearer first: under the same parent span, then by start time."""
    return (one.parent != other.parent, abs((one.start or 0) - (other.start or 0)))


def _covering(recent: Recent, framework: CountedCall) -> CountedCall | None:
    """The client call, counted already, that covers a framework call that just ended."""
    if not recent.clients:
        return None
    found, best = None, None
    for other in recent:
        if other.role is _CLIENT and _pairable(framework, other):
            rank = _rank(framework, other)
            if best is None or rank < best:
                found, best = other, rank
    return found


def _covered(recent: Recent, client: CountedCall) -> list[CountedCall]:
    """The framework calls, counted already, that a client call that just ended covers.

    At most one per framework instrumentation, the nearest.
    """
    if not recent.frameworks:
        return []
    candidates = sorted(
        (other for other in recent if other.role is _FRAMEWORK and _pairable(other, client)),
        key=lambda other: _rank(other, client),
    )
    chosen: list[CountedCall] = []
    taken: set[str | None] = set()
    for other in candidates:
        if taken.isdisjoint(other.scopes):
            taken.update(other.scopes)
            chosen.append(other)
    return chosen
