"""Benchmarks (`make bench`, `python -m bench [--quick]`): ratios measured in the same run, not timed tests.

- turn: one copilot turn (graph + gateway + audit + checkpoint) vs a bare LangGraph tool-calling agent with the
  same scripted model, tool and saver (in-memory and SQLite file).
- gateway: one authorization decision at 10k policy rules (ours, cached per policy version) vs raw pycasbin
  `enforce`, plus one full gateway `.call` of a read tool for information.
"""
