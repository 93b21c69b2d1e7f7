"""LangGraph server integration: `graphs/support.py` (the graph factory) and `graphs/auth.py` (bearer token →
principal, thread ownership, confirmations through Gateway.decide) delegate here."""
