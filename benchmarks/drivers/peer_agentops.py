"""AgentOps 0.4.21, measured as ``ours.py`` measures us (run in ``.venv-peer-agentops``).

``start_trace``/``end_trace`` are AgentOps 0.4's sessions; ``@agentops.operation`` its span
decorator. As shipped, every trace logs two "Session Replay" lines; a second row turns that
off (``log_session_replay_url=False``) to show what the tracing itself costs.
"""

from __future__ import annotations

from harness import (
    ROOT_BASELINE,
    SPAN_BASELINE,
    Comparison,
    drive,
    root_baseline,
    span_baseline,
    work,
)


def setup(shared, clean):
    import agentops

    # A dummy key: authentication fails quietly in the background (there is no network here).
    agentops.init(api_key="00000000-0000-0000-0000-000000000000", auto_start_session=False)
    config = agentops.get_client().config
    lib, lib_clean = shared.get_tracer("bench"), clean.get_tracer("bench")

    @agentops.operation
    def op_fn():
        return work()

    def trace_start_end():
        # A short name: the default "session" samples CPU load for 0.1 s (peer-bench.md note 3).
        agentops.end_trace(agentops.start_trace("s"), "Success")

    def quiet(func):
        def run():
            config.log_session_replay_url = False
            try:
                func()
            finally:
                config.log_session_replay_url = True

        return run

    return [
        Comparison(
            "span",
            "`@agentops.operation` function",
            SPAN_BASELINE,
            op_fn,
            lambda: span_baseline(lib),
            lambda: span_baseline(lib_clean),
            extra={"ours": "decorator"},
        ),
        Comparison(
            "session",
            '`start_trace("s")` + `end_trace(t, "Success")`, as shipped',
            ROOT_BASELINE,
            trace_start_end,
            lambda: root_baseline(lib),
            lambda: root_baseline(lib_clean),
            extra={"ours": "session"},
        ),
        Comparison(
            "session-quiet",
            "same, `log_session_replay_url=False`",
            ROOT_BASELINE,
            quiet(trace_start_end),
            lambda: root_baseline(lib),
            lambda: root_baseline(lib_clean),
            extra={"ours": "session"},
        ),
    ]


if __name__ == "__main__":
    drive("AgentOps 0.4.21", setup)
