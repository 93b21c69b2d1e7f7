"""Gateway benchmark: one authorization decision at 10k policy rules — our authorizer (decisions cached per
policy version) vs raw pycasbin `enforce` on the same enforcer and rules — plus one full gateway `.call` of
a read tool (validate + authorize + execute in a rolled-back transaction + audit row on SQLite)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Stats, summarize, time_sync
from bench.system import CUSTOMER, OWN_ORDER, DemoSystem
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.settings import PROJECT_ROOT

RULES = 10_000
POLICIES = PROJECT_ROOT / "policies"
Request = tuple[str, str, str]
"""(role, tenant, tool)."""


class DecisionMismatch(RuntimeError):
    """The cached decision differs from raw Casbin (the benchmark would compare different answers)."""


@dataclass(frozen=True, slots=True)
class GatewayResultSet:
    rules: int
    requests: int
    miss: Stats
    ours: Stats
    raw: Stats
    call: Stats
    policy_version: str

    @property
    def ratio_p95(self) -> float:
        return self.ours.p95_ms / self.raw.p95_ms


def synthetic_rules(tools: Sequence[str], count: int = RULES, seed: int = 7) -> list[list[str]]:
    """`count` distinct p rows across many tenants, roles and tools (about one in eight is a deny)."""
    rng = random.Random(seed)
    roles = ("customer", "agent", "supervisor", "guest", "admin", "auditor", "billing", "partner")
    names = [*tools, *(f"custom_tool_{n:03d}" for n in range(40))]
    rows: dict[tuple[str, str, str], str] = {}
    while len(rows) < count:
        key = (rng.choice(roles), f"tenant_{rng.randrange(1000):04d}", rng.choice(names))
        rows[key] = "deny" if rng.random() < 0.125 else "allow"
    return [[role, tenant, tool, "call", eft] for (role, tenant, tool), eft in rows.items()]


def load_authorizer(tools: Sequence[str], workdir: Path, rules: int = RULES) -> CasbinAuthorizer:
    """An authorizer over a policy file = the seed policy plus `rules` synthetic rows (written to workdir)."""
    seed = (POLICIES / "policy.csv").read_text(encoding="utf-8")
    extra = "".join(f"p, {', '.join(row)}\n" for row in synthetic_rules(tools, rules))
    policy = workdir / "policy-10k.csv"
    policy.write_text(f"{seed.rstrip()}\n{extra}", encoding="utf-8")
    return CasbinAuthorizer(POLICIES / "model.conf", policy)


def request_mix(tools: Sequence[str], rows: int) -> list[Request]:
    """Requests for the demo tenant (seed rules) and for synthetic tenants, allowed and denied alike."""
    roles = ("customer", "agent", "supervisor", "guest", "admin")
    tenants = ("demo", "tenant_0001", "tenant_0420", "tenant_0999")
    mix = list(itertools.product(roles, tenants, tools))
    return random.Random(11).sample(mix, k=min(rows, len(mix)))


def bench_decisions(
    authorizer: CasbinAuthorizer, requests: Sequence[Request], iterations: int, raw_iterations: int
) -> tuple[Stats, Stats, Stats]:
    """(ours on a cache miss, ours cached, raw enforce). The misses are the first decision of each request
    under this policy version; every raw decision is checked against ours."""
    n = len(requests)
    miss_ms = time_sync(lambda i: authorizer.allows(*requests[i]), n, warmup=0)

    def ours(i: int) -> object:
        return authorizer.allows(*requests[i % n])

    def raw(i: int) -> object:
        request = requests[i % n]
        decision = authorizer.enforce_uncached(*request)
        if decision != authorizer.allows(*request):
            raise DecisionMismatch(f"cached and raw decisions differ for {request}")
        return decision

    ours_ms = time_sync(ours, iterations, warmup=n)
    raw_ms = time_sync(raw, raw_iterations, warmup=1)
    return (
        summarize("ours (cache miss)", miss_ms),
        summarize("ours (cached)", ours_ms),
        summarize("raw pycasbin enforce", raw_ms),
    )


def bench_call(gateway: Gateway, iterations: int, warmup: int) -> Stats:
    """One full gateway call of the read tool get_order_details on the customer's own order."""

    def call(i: int) -> object:
        result = gateway.call(CUSTOMER, "get_order_details", {"order_id": OWN_ORDER}, call_id=f"bench-{i}")
        if result.outcome != "executed":
            raise DecisionMismatch(f"gateway call was {result.outcome}: {result.code} {result.message}")
        return result

    return summarize("gateway .call (read)", time_sync(call, iterations, warmup))


def run_gateway_bench(
    system: DemoSystem,
    *,
    iterations: int,
    raw_iterations: int,
    distinct: int,
    call_iterations: int,
    warmup: int,
) -> GatewayResultSet:
    tools = system.pack.tool_names()
    authorizer = load_authorizer(tools, system.settings.data_dir)
    requests = request_mix(tools, distinct)
    miss, ours, raw = bench_decisions(authorizer, requests, iterations, raw_iterations)
    gateway = Gateway(system.engine, system.pack, authorizer)
    call = bench_call(gateway, call_iterations, warmup)
    return GatewayResultSet(RULES + seed_rules(), len(requests), miss, ours, raw, call, authorizer.version)


def seed_rules() -> int:
    """Number of `p` rows in the seed policy file."""
    lines = (POLICIES / "policy.csv").read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.replace(" ", "").startswith("p,"))
