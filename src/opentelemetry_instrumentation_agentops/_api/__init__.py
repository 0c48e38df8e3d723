"""The AgentOps-style API (functions, decorators, 0.4 names), re-exported by the package."""
