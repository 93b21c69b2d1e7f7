"""Chat models: the deterministic offline model, a scripted model for tests, and the provider factory."""
