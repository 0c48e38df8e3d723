"""OpenLLMetry (traceloop-sdk 0.62.4), measured as ``ours.py`` measures us.

Runs in ``.venv-peer-openllmetry``. ``@workflow`` with no parent is a trace root per call (its
closest thing to a session); ``@task`` is its span decorator. ``Traceloop.init`` adds its own
processor to the global provider, so its bare(shared) baseline is slowed too: the clean
provider's baseline is the fair one (peer-bench.md note 1).
"""

from __future__ import annotations

from harness import (
    ROOT_BASELINE,
    SPAN_BASELINE,
    Comparison,
    NullExporter,
    drive,
    root_baseline,
    span_baseline,
    work,
)


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

    return [
        Comparison(
            "span",
            '`@task(name="t")` function',
            SPAN_BASELINE,
            t,
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            extra={"ours": "decorator"},
        ),
        Comparison(
            "session",
            '`@workflow(name="w")` function (a root per call)',
            ROOT_BASELINE,
            w,
            lambda: root_baseline(lib),
            lambda: root_baseline(lib_clean),
            extra={"ours": "session"},
        ),
    ]


if __name__ == "__main__":
    drive("OpenLLMetry 0.62.4", setup)
