"""The package's one logger, ``opentelemetry_instrumentation_agentops``.

Every warning about misuse, every hint and the per-session summary line go
through it, so one ``logging.getLogger("opentelemetry_instrumentation_agentops")``
configures them all.
"""

import logging

LOGGER_NAME = "opentelemetry_instrumentation_agentops"
logger = logging.getLogger(LOGGER_NAME)
