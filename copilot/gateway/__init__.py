"""Tool gateway: validate → authorize → dry-run/preview → confirm → execute once → audit."""
