"""OpenLLMetry (traceloop-sdk 0.62.4), measured as ``ours.py`` measures us.

Runs in ``.venv-peer-openllmetry``. ``@workflow`` with no parent is a trace root per call (its
closest thing to a session); ``@task`` is its span decorator. ``Traceloop.init`` adds its own
processor to the global provider, so its bare(shared) baseline is slowed too: the clean
provider's baseline is the fair one (peer-bench.md note 1).
"""

from __future__ import annotations

from harness import ROOT_BASELINE, SPAN_BASELINE, Comparison, NullExporter, drive, work
from opentelemetry.context import Context


def setup(shared, clean):
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import task, workflow

    # instruments=set(): instrument no other library (it prints a warning saying so).
    Traceloop.init(app_name="bench", exporter=NullExporter(), instruments=set())
    lib, lib_clean = shared.get_tracer("bench"), clean.get_tracer("bench")

    @task(name="t")
    def t():
        return work()

    @workflow(name="w")
    def w():
        return work()

    def current_span(tracer):
        with tracer.start_as_current_span("op"):
            work()

    def bare_root(tracer):
        tracer.start_span("session", context=Context()).end()

    return [
        Comparison(
            "span",
            '`@task(name="t")` function',
            SPAN_BASELINE,
            t,
            lambda: current_span(lib),
            lambda: current_span(lib_clean),
            extra={"ours": "decorator"},
        ),
        Comparison(
            "session",
            '`@workflow(name="w")` function (a root per call)',
            ROOT_BASELINE,
            w,
            lambda: bare_root(lib),
            lambda: bare_root(lib_clean),
            extra={"ours": "session"},
        ),
    ]


if __name__ == "__main__":
    drive("OpenLLMetry 0.62.4", setup)
