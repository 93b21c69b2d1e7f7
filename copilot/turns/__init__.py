"""Durable turns: a turn (a message, a confirmation's resume) is a job in the database that any worker runs,
one at a time per conversation, under a lease; `TurnScheduler` is the per-process worker."""

from copilot.turns.queue import TurnQueue
from copilot.turns.request import TurnRequest, TurnRunner, TurnStatus
from copilot.turns.scheduler import TurnScheduler

__all__ = ["TurnQueue", "TurnRequest", "TurnRunner", "TurnScheduler", "TurnStatus"]
