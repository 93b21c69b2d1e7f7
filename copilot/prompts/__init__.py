"""The prompt registry: the system prompt and the templates the graph sends the model, versioned per tenant like
policies (copilot/store/versioned.py), seeded from the tool pack on first use, and read by every turn.

`templates` (the fields, their placeholders, validation, rendering), `store` (versions, history, diff, seed),
`service` (publish / rollback with validation, the current version for a turn), `stamp` (what produced a turn:
prompt, model and policy version, on every audit row it writes)."""
