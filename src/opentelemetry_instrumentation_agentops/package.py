# The instrumentor patches no third-party library of its own; it must load
# under `opentelemetry-instrument` whether or not `agentops` is installed.
_instruments: tuple[str, ...] = ()
