"""Human handoff: the persisted queue, claims, summaries, approvals and agent assist."""
