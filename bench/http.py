"""HTTP benchmark: one copilot worker vs a bare FastAPI + sse-starlette server, over real HTTP + SSE.

Both servers run as their own processes (uvicorn, one worker) on the same database kind; the client (httpx,
this process) drives closed-loop conversations. The bare server writes, per turn, exactly the events the
copilot streamed for the same question (same count, same payloads; recorded from a copilot turn first).
Phases are interleaved, rotating the order every round, so drift on the shared cores hits both alike.
Reported per question kind: turns/s and server CPU per turn (at `concurrency`), and p95 turn latency at
`latency_concurrency` conversations (help and order mixed).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from bench.load import BareSlot, CopilotSlot, Frame, Phase, Slot, run_phase
from bench.servers import SECRET
from bench.stats import Stats, summarize
from bench.system import CUSTOMER, OWN_ORDER
from copilot.auth import mint_token
from copilot.serverprocess import free_port, wait_ready
from copilot.settings import PROJECT_ROOT

T = TypeVar("T")
Kind = Literal["help", "order"]
ServerKind = Literal["copilot", "bare"]
QUESTIONS: dict[Kind, str] = {"help": "How do I return an item?", "order": f"Where is my order {OWN_ORDER}?"}
SERVERS: tuple[ServerKind, ...] = ("copilot", "bare")


@dataclass(frozen=True, slots=True)
class HttpBudget:
    warmup: int
    turns: int
    concurrency: int
    rounds: int
    latency_turns: int
    latency_concurrency: int


@dataclass(frozen=True, slots=True)
class Server:
    kind: ServerKind
    pid: int
    url: str


@dataclass
class HttpResult:
    database: str
    budget: HttpBudget
    events: dict[Kind, int] = field(default_factory=dict)
    """Events per turn the copilot streamed (after coalescing) = events the bare server writes."""
    throughput: dict[tuple[ServerKind, Kind], list[Phase]] = field(default_factory=dict)
    latency: dict[ServerKind, list[Phase]] = field(default_factory=dict)

    def turns_per_s(self, server: ServerKind, kind: Kind) -> float:
        phases = self.throughput[server, kind]
        return sum(p.turns for p in phases) / sum(p.wall_s for p in phases)

    def cpu_ms_per_turn(self, server: ServerKind, kind: Kind) -> float:
        phases = self.throughput[server, kind]
        return sum(p.cpu_s for p in phases) * 1000 / sum(p.turns for p in phases)

    def ratio(self, kind: Kind) -> float:
        """Copilot throughput / bare throughput."""
        return self.turns_per_s("copilot", kind) / self.turns_per_s("bare", kind)

    def latency_stats(self, server: ServerKind) -> Stats:
        return summarize(
            f"{server} @{self.budget.latency_concurrency}",
            [x for p in self.latency[server] for x in p.latencies_ms],
        )


@contextmanager
def server_process(
    kind: ServerKind, workdir: Path, database_url: str | None, src: Path | None = None
) -> Iterator[Server]:
    """Start `python -m bench.servers KIND`, wait for /healthz, stop it (SIGTERM: graceful) afterwards.
    Its output goes to `<workdir>/<kind>.log`, shown when it fails. With `src`, the server imports
    `copilot` from that checkout instead (e.g. main, for a before/after comparison)."""
    port = free_port()
    data_dir = workdir / kind
    data_dir.mkdir(parents=True, exist_ok=True)
    options = [kind, "--port", str(port), "--data-dir", str(data_dir)]
    if database_url:
        options += ["--database-url", database_url]
    env = {**os.environ, "COPILOT_ENV": "development"}
    args, cwd = [sys.executable, "-m", "bench.servers", *options], PROJECT_ROOT
    if src is not None:
        script = shutil.copy(PROJECT_ROOT / "bench" / "servers.py", workdir / f"{kind}_server.py")
        args, cwd, env["PYTHONPATH"] = [sys.executable, str(script), *options], src, str(src)
    log_path = workdir / f"{kind}.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, log_path, timeout=120, interval=0.1, name=f"bench {kind} server")
        yield Server(kind, proc.pid, url)
    except BaseException:
        print(
            f"--- {kind} server output (last 3000 chars) ---\n{log_path.read_text()[-3000:]}", file=sys.stderr
        )
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_turn(kind: Kind) -> Callable[[list[Frame]], None]:
    def check(frames: list[Frame]) -> None:
        types = [f.event for f in frames]
        ok = "message.completed" in types and "error" not in types and types[-1] == "turn.completed"
        if not ok or (kind == "order" and "tool.executed" not in types):
            raise RuntimeError(f"a {kind} turn streamed {types}")

    return check


def _script(frames: list[Frame]) -> list[tuple[str, dict[str, Any]]]:
    return [(f.event, f.data) for f in frames]


def _rotated(items: list[T], r: int) -> list[T]:
    return items[r % len(items) :] + items[: r % len(items)]


class Bench:
    def __init__(self, servers: dict[ServerKind, Server], budget: HttpBudget, result: HttpResult) -> None:
        self.servers, self.budget, self.result = servers, budget, result
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
        self.clients = {
            kind: httpx.AsyncClient(base_url=s.url, timeout=60, limits=limits) for kind, s in servers.items()
        }
        self.headers = {"Authorization": f"Bearer {mint_token(SECRET, CUSTOMER)}"}
        self.scripts: dict[Kind, list[tuple[str, dict[str, Any]]]] = {}

    def slot(self, server: ServerKind, kind: Kind, name: str) -> Slot:
        if server == "copilot":
            return CopilotSlot(self.clients["copilot"], self.headers, QUESTIONS[kind])
        return BareSlot(self.clients["bare"], name, self.scripts[kind])

    async def record_scripts(self) -> None:
        for kind, question in QUESTIONS.items():
            frames = await CopilotSlot(self.clients["copilot"], self.headers, question).turn()
            check_turn(kind)(frames)
            self.scripts[kind] = _script(frames)
            self.result.events[kind] = len(frames)

    async def phase(self, server: ServerKind, kind: Kind, tag: str, turns: int, concurrency: int) -> Phase:
        return await run_phase(
            self.servers[server].pid,
            lambda i: self.slot(server, kind, f"{tag}-{i}"),
            concurrency=concurrency,
            turns=turns,
            check=check_turn(kind),
        )

    async def mixed(self, server: ServerKind, tag: str) -> Phase:
        """Help and order conversations side by side (`latency_concurrency` of them)."""
        kinds: list[Kind] = ["help", "order"]
        checks = {kind: check_turn(kind) for kind in kinds}

        def check(frames: list[Frame]) -> None:
            checks["order" if any(f.event == "tool.executed" for f in frames) else "help"](frames)

        return await run_phase(
            self.servers[server].pid,
            lambda i: self.slot(server, kinds[i % 2], f"{tag}-{i}"),
            concurrency=self.budget.latency_concurrency,
            turns=self.budget.latency_turns,
            check=check,
        )

    async def run(self) -> None:
        b = self.budget
        await self.record_scripts()
        variants = [(s, k) for s in SERVERS for k in QUESTIONS]
        for s, k in variants:  # warm-up (not recorded)
            await self.phase(s, k, f"warm-{s}-{k}", b.warmup, b.concurrency)
        for r in range(b.rounds):
            for s, k in _rotated(variants, r):
                phase = await self.phase(s, k, f"r{r}-{s}-{k}", b.turns, b.concurrency)
                self.result.throughput.setdefault((s, k), []).append(phase)
            for s in _rotated(list(SERVERS), r):
                self.result.latency.setdefault(s, []).append(await self.mixed(s, f"l{r}-{s}"))

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


DatabaseUrls = dict[ServerKind, str | None]


def run_http_bench(
    workdir: Path, budget: HttpBudget, database_urls: DatabaseUrls, *, copilot_src: Path | None = None
) -> HttpResult:
    """Start both servers, measure, stop them. `database_urls`: None = a SQLite file in the workdir;
    `copilot_src`: run the copilot server from another checkout."""
    database = "postgres" if database_urls["copilot"] else "sqlite"
    result = HttpResult(database, budget)
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(
                server_process(kind, workdir, database_urls[kind], copilot_src if kind == "copilot" else None)
            )
            for kind in SERVERS
        }

        async def main() -> None:
            bench = Bench(servers, budget, result)
            try:
                await bench.run()
            finally:
                await bench.aclose()

        asyncio.run(main())
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.http [--quick] [--copilot-src PATH]`: only the HTTP benchmark."""
    import argparse
    import tempfile

    from bench.report import http_lines
    from bench.run import DEFAULT, QUICK

    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--copilot-src", type=Path, help="a checkout to run the copilot server from")
    args = parser.parse_args(argv)
    budget = (QUICK if args.quick else DEFAULT).http
    with tempfile.TemporaryDirectory(prefix="copilot-bench-http-") as tmp:
        result = run_http_bench(
            Path(tmp), budget, {"copilot": None, "bare": None}, copilot_src=args.copilot_src
        )
    if args.copilot_src is not None:
        print(f"copilot server from {args.copilot_src}")
    for line in http_lines(result):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
