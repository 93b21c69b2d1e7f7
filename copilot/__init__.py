"""Support Copilot: a LangGraph support agent whose tool calls pass a permission-checked gateway."""

__version__ = "0.1.0"
