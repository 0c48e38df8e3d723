"""OpenInference 0.1.72, measured as ``ours.py`` measures us (``.venv-peer-openinference``).

OpenInference has no session span: ``using_session`` puts ``session.id`` in the context and
spans made through an ``OITracer`` copy it. The first row enters the session on every call,
the second once, outside the loop (the closer match to a span inside one of our sessions).
"""

from __future__ import annotations

from harness import SPAN_BASELINE, Comparison, drive, span_baseline, work
from opentelemetry import context


def setup(shared, clean):
    from openinference.instrumentation import OITracer, TraceConfig, using_session

    tracer = OITracer(shared.get_tracer("bench"), TraceConfig())
    lib, lib_clean = shared.get_tracer("bench"), clean.get_tracer("bench")

    def session_and_span():
        with using_session("sid"), tracer.start_as_current_span("op"):
            work()

    def span_only():
        with tracer.start_as_current_span("op"):
            work()

    with using_session("sid"):
        in_session = context.get_current()

    return [
        Comparison(
            "span",
            '`with using_session("sid"): with OITracer.start_as_current_span("op")`',
            SPAN_BASELINE,
            session_and_span,
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            extra={"ours": "processor"},
        ),
        Comparison(
            "span-in-session",
            "`OITracer.start_as_current_span` (session entered once, outside the loop)",
            SPAN_BASELINE,
            span_only,
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            context=in_session,
            extra={"ours": "processor"},
        ),
    ]


if __name__ == "__main__":
    drive("OpenInference 0.1.72", setup)
