"""Secrets never reach telemetry, with content capture on or off (design.md section 7).

Every key of the list, and every value pattern, is planted in every kind of container (a
dict, a list, a dataclass, a pydantic model, a function's keyword arguments, a plain text,
a URL) and passed through the public API: decorated functions and events with content
capture on; ``ErrorEvent`` details, exception messages, end-state reasons and
``end_session`` keywords with capture off. The secret must be in no exported span, while
the text around it is.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from support.runtime import configure

import opentelemetry_instrumentation_agentops as agentops

# design.md section 7: "at least" these; case, "-" and "_" ignored (see the Hypothesis tests).
SECRET_KEYS = [
    *("api_key", "apikey", "api-key", "x-api-key", "authorization", "proxy-authorization"),
    *("cookie", "set-cookie", "password", "passwd", "pwd", "passphrase", "secret"),
    *("client_secret", "token", "access_token", "refresh_token", "id_token", "jwt"),
    *("private_key", "ssh_key", "credentials", "session_key", "dsn", "connection_string"),
    "aws_secret_access_key",
]
VISIBLE = "visible-words"  # beside every secret: the value was exported, only the secret was not


def marker() -> str:
    """A fresh secret: letters and digits, as keys and tokens are."""
    return f"Zq9{uuid.uuid4().hex}"


# Secrets whatever their key: (label, text holding the marker ``{}``).
VALUE_PATTERNS = [
    ("bearer", "the call sent Bearer {} upstream"),
    ("bearer-lowercase", "header was: bearer {}"),
    ("bearer-mixed-case", "auth BeArEr {}"),
    ("openai", "use sk-{} for the call"),
    ("openai-project", "key sk-proj-{}_Ab-9"),
    ("anthropic", "key sk-ant-api03-{}-Ab9"),
    ("url-password", "connect to postgresql://app:{}@db.internal:5432/orders now"),
    ("https-password", "fetch https://bob:{}@example.com/report.csv"),
    ("url-query-api-key", "GET https://api.example.com/v1/items?page=2&api_key={}&q=x"),
    ("url-query-token", "GET https://example.com/callback?token={}#done"),
]


def identifier(key: str) -> str:
    return key.replace("-", "_")


# -- containers: (key, secret) -> a value holding the secret under the key ---------------------


def keyed_dict(key: str, secret: str) -> Any:
    return {key: secret, "note": VISIBLE}


def keyed_list(key: str, secret: str) -> Any:
    return [VISIBLE, [key, secret], {key: secret}]  # headers as (name, value), a list of dicts


def keyed_dataclass(key: str, secret: str) -> Any:
    cls = dataclasses.make_dataclass("Config", [(identifier(key), str), ("note", str)])
    return cls(secret, VISIBLE)


def keyed_pydantic(key: str, secret: str) -> Any:
    model = pydantic.create_model("Config", **{identifier(key): (str, ...), "note": (str, ...)})
    return model(**{identifier(key): secret, "note": VISIBLE})


def keyed_text(key: str, secret: str) -> Any:
    return f"{VISIBLE}: request failed with {key}={secret}, retrying"


def keyed_json_text(key: str, secret: str) -> Any:
    return json.dumps({"note": VISIBLE, key: secret})  # e.g. a tool call's arguments


def keyed_url(key: str, secret: str) -> Any:
    return f"{VISIBLE} https://api.example.com/v1/items?page=2&{key}={secret}&sort=asc"


KEYED = {
    "dict": keyed_dict,
    "list": keyed_list,
    "dataclass": keyed_dataclass,
    "pydantic": keyed_pydantic,
    "text": keyed_text,
    "json-text": keyed_json_text,
    "url": keyed_url,
}


def unkeyed(kind: str, text: str) -> Any:
    """``text`` (a secret whatever its key) in a container of ``kind``, under no secret's key."""
    if kind in ("text", "url"):
        return f"{VISIBLE} {text}"
    if kind == "json-text":
        return json.dumps({"note": VISIBLE, "message": text})
    return KEYED[kind]("message", text)


# -- what is exported ----------------------------------------------------------------------------


def exported(spans) -> str:
    """Every finished span, in full (attributes, events, status), as one text."""
    return "\n".join(s.to_json(indent=None) for s in spans.all())


def assert_hidden(spans, secret: str) -> None:
    text = exported(spans)
    assert VISIBLE in text  # the value was exported...
    assert secret not in text  # ...without the secret
    assert "[REDACTED]" in text


def through_captured_content(value: Any, kwargs: dict[str, Any] | None = None) -> None:
    """``value`` everywhere content is captured: decorators, events, error details."""
    configure(capture_content=True)

    @agentops.record_tool("lookup")
    def lookup(payload: Any, **options: Any) -> Any:
        return payload

    @agentops.tool(name="fetch")
    def fetch(payload: Any) -> Any:
        return {"result": payload}

    @agentops.record_action("steps")
    def steps(payload: Any) -> Iterator[Any]:
        yield payload

    with agentops.start_session(name="captured"):
        lookup(value, **(kwargs or {}))
        fetch(value)
        list(steps(value))
        agentops.record(agentops.ActionEvent(action_type="a", params=value, returns=value))
        agentops.record(agentops.LLMEvent(model="m", prompt=value, completion=value))
        agentops.record(agentops.ToolEvent(name="t", params=value, returns=value, logs=value))
        agentops.record(agentops.ErrorEvent(error_type="E", details=value, logs=value))


# -- every key, in every container ---------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KEYED))
@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_secret_named_key_is_redacted_in_captured_content(spans, key, kind):
    secret = marker()
    through_captured_content(KEYED[kind](key, secret))
    assert_hidden(spans, secret)


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_secret_named_keyword_argument_is_redacted(spans, key):
    secret = marker()
    through_captured_content(VISIBLE, kwargs={key: secret})
    namespace: dict[str, Any] = {}
    exec(f"def login(user, {identifier(key)}):\n    return user", namespace)  # a named parameter
    login = agentops.record_action("login")(namespace["login"])
    with agentops.start_session(name="login"):
        login(VISIBLE, secret)
    assert_hidden(spans, secret)
    arguments = json.loads(spans.one("action login").attributes["agentops.event.params"])
    assert arguments == {"user": VISIBLE, identifier(key): "[REDACTED]"}


@pytest.mark.parametrize("kind", sorted(KEYED))
@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_secret_named_key_is_redacted_in_error_details_with_capture_off(spans, key, kind):
    secret = marker()
    with agentops.start_session(name="off"):
        agentops.record(agentops.ErrorEvent(error_type="E", details=KEYED[kind](key, secret)))
    assert_hidden(spans, secret)
    span = spans.one("error E")
    assert VISIBLE in span.status.description
    (event,) = span.events
    assert VISIBLE in event.attributes["exception.message"]
    assert "agentops.error.details" not in span.attributes  # content: not captured


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_secret_named_legacy_keyword_is_never_kept(spans, key):
    secret = marker()
    session = agentops.start_session(name="legacy")
    agentops.end_session("Success", **{key: secret, "video": VISIBLE})
    root = spans.root_of(session)
    assert root.attributes["agentops.legacy.video"] == VISIBLE
    assert not [
        k
        for k in root.attributes
        if k.startswith("agentops.legacy.") and k != ("agentops.legacy.video")
    ]
    assert secret not in exported(spans)


# -- every value pattern, whatever its key -------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KEYED))
@pytest.mark.parametrize(("label", "pattern"), VALUE_PATTERNS, ids=[p[0] for p in VALUE_PATTERNS])
def test_a_secret_looking_value_is_redacted_in_captured_content(spans, label, pattern, kind):
    secret = marker()
    through_captured_content(unkeyed(kind, pattern.format(secret)))
    assert_hidden(spans, secret)


@pytest.mark.parametrize("kind", sorted(KEYED))
@pytest.mark.parametrize(("label", "pattern"), VALUE_PATTERNS, ids=[p[0] for p in VALUE_PATTERNS])
def test_a_secret_looking_value_is_redacted_with_capture_off(spans, label, pattern, kind):
    """ErrorEvent details, end-state reasons and legacy keywords: exported whatever capture."""
    secret = marker()
    value = unkeyed(kind, pattern.format(secret))
    session = agentops.start_session(name="off")
    agentops.record(agentops.ErrorEvent(error_type="E", details=value))
    agentops.end_session("Fail", value if isinstance(value, str) else str(value), video=value)
    assert_hidden(spans, secret)
    root = spans.root_of(session)
    assert VISIBLE in root.attributes["agentops.session.end_state_reason"]
    assert VISIBLE in root.status.description
    assert VISIBLE in str(root.attributes["agentops.legacy.video"])


@pytest.mark.parametrize(("label", "pattern"), VALUE_PATTERNS, ids=[p[0] for p in VALUE_PATTERNS])
def test_exception_messages_the_package_records_are_redacted(spans, label, pattern):
    secret = marker()
    message = f"{VISIBLE}: {pattern.format(secret)}"

    @agentops.record_action("call")
    def call() -> None:
        raise ValueError(message)

    with pytest.raises(ValueError), agentops.start_session(name="raising") as session:
        with pytest.raises(ValueError):
            call()
        agentops.record(agentops.ErrorEvent(exception=ValueError(message)))
        raise ValueError(message)
    assert_hidden(spans, secret)
    for span in (spans.one("action call"), spans.one("error ValueError"), spans.root_of(session)):
        assert VISIBLE in span.status.description, span.name
        (event,) = [e for e in span.events if e.name == "exception"]
        assert VISIBLE in event.attributes["exception.message"]
        assert VISIBLE in event.attributes["exception.stacktrace"]
    reason = spans.root_of(session).attributes["agentops.session.end_state_reason"]
    assert reason.startswith(f"ValueError: {VISIBLE}")


# -- what must be kept, and what must never be exported ----------------------------------------


def test_token_counts_and_other_look_alikes_are_kept(spans):
    configure(capture_content=True)
    kept = {
        "max_tokens": 100,
        "gen_ai.usage.input_tokens": 5,
        "prompt_tokens": 3,
        "usage": {"prompt_tokens_details": {"cached_tokens": 1}, "completion_tokens": 2},
        "tokenizer": "cl100k_base",
        "ads_network": "on",
        "needsNotification": True,
        "keyboard": "qwerty",
        "author": "ann",
        "text": "the bearer of bad news uses sk-learn-compatible-estimator; max_tokens=100",
        "link": "https://example.com:8080/a?page=2&max_tokens=5",
    }
    agentops.start_session()
    agentops.record(agentops.ActionEvent(action_type="kept", params=kept))
    params = json.loads(spans.one("action kept").attributes["agentops.event.params"])
    assert params == kept


def test_a_mapping_whose_items_fail_is_no_repr(spans):
    secret = marker()

    class Exploding(Mapping):
        def __getitem__(self, key: str) -> str:
            return secret

        def __iter__(self) -> Iterator[str]:
            return iter(["api_key"])

        def __len__(self) -> int:
            return 1

        def items(self) -> Any:
            raise RuntimeError("no items")

        def __repr__(self) -> str:
            return f"Exploding(api_key={secret!r})"

    agentops.start_session()
    agentops.record(agentops.ErrorEvent(error_type="E", details=Exploding()))  # capture off
    configure(capture_content=True)
    agentops.record(agentops.ActionEvent(action_type="a", params={"config": Exploding()}))
    text = exported(spans)
    assert secret not in text
    assert "Exploding(" not in text
    assert "<unreadable Exploding>" in text


def test_a_pydantic_secret_is_redacted_under_any_key(spans):
    secret = marker()
    configure(capture_content=True)
    agentops.start_session()
    value = {"openai": pydantic.SecretStr(secret), "note": VISIBLE}
    agentops.record(agentops.ActionEvent(action_type="a", params=value))
    assert_hidden(spans, secret)
    params = json.loads(spans.one("action a").attributes["agentops.event.params"])
    assert params == {"openai": "[REDACTED]", "note": VISIBLE}  # not its fields


# -- Hypothesis: any casing and separators, any text around -----------------------------------

FUZZ = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WORDS = [key.replace("-", "_").split("_") for key in SECRET_KEYS]


@st.composite
def secret_keys(draw: st.DrawFn) -> str:
    """A key of the list with any casing and any of "-", "_" or nothing between its words,
    maybe inside a longer name (``openai_API-Key_value``)."""
    words = draw(st.sampled_from(WORDS))
    separator = st.sampled_from(["", "-", "_"])
    key = words[0]
    for word in words[1:]:
        key += draw(separator) + word
    key = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in key)
    prefix = draw(st.sampled_from(["", "x-", "openai_", "DB-", "my."]))
    suffix = draw(st.sampled_from(["", "_value", "-Header", ".old"]))
    return prefix + key + suffix


@FUZZ
@given(key=secret_keys(), kind=st.sampled_from(["dict", "list", "text", "json-text", "url"]))
def test_any_casing_and_separators_of_a_secret_key_are_redacted(spans, key, kind):
    spans.clear()
    configure(capture_content=False)
    secret = marker()
    value = KEYED[kind](key, secret)
    session = agentops.start_session(name="fuzz")
    agentops.record(agentops.ErrorEvent(error_type="E", details=value))  # capture off
    configure(capture_content=True)
    agentops.record(agentops.ActionEvent(action_type="a", params=value))
    session.end_session("Success", **{key: secret})
    assert_hidden(spans, secret)
    assert not [k for k in spans.root_of(session).attributes if k.startswith("agentops.legacy.")]


TEXT_AROUND = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@FUZZ
@given(before=TEXT_AROUND, after=TEXT_AROUND, pattern=st.sampled_from(VALUE_PATTERNS))
def test_secret_looking_values_are_redacted_in_any_text_around(spans, before, after, pattern):
    spans.clear()
    secret = marker()
    text = f"{before} {VISIBLE} {pattern[1].format(secret)} {after}"
    session = agentops.start_session(name="fuzz")
    agentops.record(agentops.ErrorEvent(error_type="E", details=text))
    session.end_session("Fail", text)
    assert_hidden(spans, secret)


# -- attributes the user gives (exported whatever the capture setting) -------------------------


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_secret_named_user_attribute_is_redacted(spans, key):
    secret = marker()
    given = {key: secret, "max_tokens": 5, "note": VISIBLE}

    @agentops.tool(name="search", attributes=given)
    def search() -> None:
        return None

    with agentops.start_session(name="attributes", attributes=given) as session:
        search()
        agentops.update_trace_metadata(given)
    with agentops.start_trace("legacy", tags=given):  # 0.4: a dict of tags is attributes
        pass
    assert_hidden(spans, secret)
    root = spans.root_of(session)
    assert root.attributes[key] == "[REDACTED]"
    assert root.attributes["max_tokens"] == 5
    assert root.attributes[f"trace.metadata.{key}"] == "[REDACTED]"
    assert spans.one("execute_tool search").attributes[key] == "[REDACTED]"
