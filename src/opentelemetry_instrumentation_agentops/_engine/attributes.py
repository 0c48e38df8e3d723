"""Attribute names written on spans, defined once.

GenAI semantic conventions are still "Development", so the names are plain
strings here instead of imports from private ``opentelemetry.semconv`` modules.
"""

TRACER_NAME = "opentelemetry_instrumentation_agentops"  # the scope of every span made here

SESSION_ID = "session.id"
CONVERSATION_ID = "gen_ai.conversation.id"
USER_ID = "user.id"  # the end user a session serves (OpenInference, Phoenix's user column)
# A span's own session.id / gen_ai.conversation.id (a framework's: agno's run session, written
# by OpenInference's agno tracer), kept beside the session's: the session's id wins.
FRAMEWORK_SESSION_ID = "agentops.framework.session.id"
FRAMEWORK_CONVERSATION_ID = "agentops.framework.conversation.id"

# A run's input and output on its root, with content capture on: OpenInference's names
# (Phoenix's sessions view shows a session's first input and last output from them) beside
# GenAI's messages. The root's OpenInference kind keeps backends from reading a root that
# carries messages and the session's token totals as one more LLM call.
INPUT_VALUE = "input.value"
INPUT_MIME_TYPE = "input.mime_type"
OUTPUT_VALUE = "output.value"
OUTPUT_MIME_TYPE = "output.mime_type"
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
ROOT_SPAN_KIND = "AGENT"
MIME_TEXT = "text/plain"
MIME_JSON = "application/json"

SESSION_NAME = "agentops.session.name"
SESSION_TAGS = "agentops.session.tags"
SESSION_END_STATE = "agentops.session.end_state"
SESSION_END_STATE_REASON = "agentops.session.end_state_reason"
SESSION_LLM_CALLS = "agentops.session.llm_calls"
SESSION_TOOL_CALLS = "agentops.session.tool_calls"
SESSION_ACTIONS = "agentops.session.actions"
SESSION_ERRORS = "agentops.session.errors"
SESSION_COST = "agentops.session.cost_usd"
SESSION_LIVE = "agentops.session.live"  # true on a running session's snapshot span

EVENT_ID = "agentops.event.id"
EVENT_TYPE = "agentops.event.type"
EVENT_PARAMS = "agentops.event.params"
EVENT_RETURNS = "agentops.event.returns"
EVENT_LOGS = "agentops.event.logs"
ACTION_TYPE = "agentops.action.type"
ACTION_SCREENSHOT = "agentops.action.screenshot"
LLM_THREAD_ID = "agentops.llm.thread_id"
LLM_COST = "agentops.llm.cost_usd"
ERROR_CODE = "agentops.error.code"
ERROR_DETAILS = "agentops.error.details"
LEGACY_PREFIX = "agentops.legacy."
# On a decorated call's span left by a BaseException that is no error (asyncio cancellation,
# GeneratorExit, KeyboardInterrupt, SystemExit): that exception's class name.
INTERRUPTED_BY = "agentops.call.interrupted_by"

# AgentOps 0.4 decorators (@workflow, @task, @operation, @tool, @guardrail, ...).
ENTITY_KIND = "agentops.span.kind"
ENTITY_VERSION = "agentops.entity.version"
ENTITY_TAGS = "agentops.entity.tags"
TOOL_COST = "agentops.tool.cost_usd"
GUARDRAIL_SPEC = "agentops.guardrail.spec"
TRACE_METADATA_PREFIX = "trace.metadata"

OPERATION_NAME = "gen_ai.operation.name"
REQUEST_MODEL = "gen_ai.request.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT = "gen_ai.tool.call.result"
AGENT_ID = "gen_ai.agent.id"
AGENT_NAME = "gen_ai.agent.name"
ERROR_TYPE = "error.type"
TOKEN_TYPE = "gen_ai.token.type"  # a metric attribute: "input" or "output"

# Older GenAI instrumentations still report tokens under these names.
LEGACY_INPUT_TOKENS = "gen_ai.usage.prompt_tokens"
LEGACY_OUTPUT_TOKENS = "gen_ai.usage.completion_tokens"

OP_CHAT = "chat"
OP_EXECUTE_TOOL = "execute_tool"
OP_CREATE_AGENT = "create_agent"
OP_INVOKE_AGENT = "invoke_agent"
