"""Admin policy management: versioned Casbin rules in the database, lint, tests as data, what-if simulation,
decision diffs and live reload of the gateway's authorizer."""
