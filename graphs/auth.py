"""LangGraph server auth: langgraph.json "auth" → ./graphs/auth.py:auth (copilot bearer tokens → principal;
threads owned by their creator; a resume records the decision through the gateway). See copilot.platform.auth."""

from copilot.platform.auth import auth

__all__ = ["auth"]
