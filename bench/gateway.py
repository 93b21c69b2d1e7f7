"""Gateway benchmark: one authorization decision at 10k policy rules — our authorizer (decisions cached per
policy version) vs raw pycasbin `enforce` on the same enforcer and rules — plus one full gateway `.call` of
a read tool (validate + authorize + execute in a rolled-back transaction + audit row on SQLite).

Live reload: production wires the DB-backed `LiveAuthorizer` (copilot/policy/reload.py), which reads the active
version stamp before every decision. Measured: a pinned decision reading the stamp on a fresh pooled connection
(what the gateway did before), on the gateway call's already open connection (what it does now), and a full
`.call` with the live authorizer."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Stats, summarize, time_sync
from bench.system import CUSTOMER, OWN_ORDER, DemoSystem
from copilot.gateway.authorizer import pinned
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.policy.reload import LiveAuthorizer
from copilot.policy.service import open_policy
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
    live_own: Stats
    """Live authorizer: stamp read on its own pooled connection + cached decision."""
    live_shared: Stats
    """Live authorizer: stamp read on the gateway's open connection + cached decision."""
    live_call: Stats
    """Full gateway .call with the live authorizer (what production runs)."""

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
        result = gateway.call(CUSTOMER, "get_order_details", {"order_id": OWN_ORDER})
        if result.outcome != "executed":
            raise DecisionMismatch(f"gateway call was {result.outcome}: {result.code} {result.message}")
        return result

    return summarize("gateway .call (read)", time_sync(call, iterations, warmup))


def bench_live(live: LiveAuthorizer, system: DemoSystem, iterations: int) -> tuple[Stats, Stats]:
    """(stamp on an own connection, stamp on an open connection), each + one cached decision."""
    request = (CUSTOMER.role, CUSTOMER.tenant, "get_order_details")
    if not live.allows(*request):
        raise DecisionMismatch(f"the seed policy should allow {request}")

    def own(i: int) -> object:
        with pinned(live):
            return live.allows(*request)

    with system.engine.connect() as conn:

        def shared(i: int) -> object:
            with pinned(live, conn):
                decision = live.allows(*request)
            conn.rollback()  # the gateway ends the stamp read's implicit transaction the same way
            return decision

        shared_ms = time_sync(shared, iterations, warmup=50)
    own_ms = time_sync(own, iterations, warmup=50)
    return (
        summarize("live: stamp on own connection", own_ms),
        summarize("live: stamp on gateway's connection", shared_ms),
    )


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
    _, live = open_policy(system.engine, system.pack, POLICIES, tenant=CUSTOMER.tenant)
    live_own, live_shared = bench_live(live, system, call_iterations)
    live_gateway = Gateway(system.engine, system.pack, live)
    live_call = bench_call(live_gateway, call_iterations, warmup)
    return GatewayResultSet(
        RULES + seed_rules(), len(requests), miss, ours, raw, call, authorizer.version,
        live_own, live_shared, replace_name(live_call, "gateway .call (read, live policy)"),
    )  # fmt: skip


def replace_name(stats: Stats, name: str) -> Stats:
    return dataclasses.replace(stats, name=name)


def seed_rules() -> int:
    """Number of `p` rows in the seed policy file."""
    lines = (POLICIES / "policy.csv").read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.replace(" ", "").startswith("p,"))
