"""`python -m bench.retrieval [--chunks N]`: hybrid retrieval latency at scale, against plain bm25s top-10 on
the same chunks in the same run, plus index build vs load time.

The corpus is synthetic but shaped like a help center: sentences of the retail pack's articles, each chunk
padded with words drawn (Zipf) from a 30k-word lexicon so the vocabulary and posting lists grow as a real
knowledge base's do; a quarter of the documents are internal. Queries are the pack's intent examples."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from bench.stats import Stats, summarize, time_sync
from copilot.knowledge import Chunk, KnowledgeBase
from copilot.knowledge.audience import PUBLIC_ONLY, Audience
from copilot.knowledge.embedder import WordLlamaEmbedder
from copilot.knowledge.lexical import chunk_tokens
from copilot.packs import load_pack
from copilot.settings import PROJECT_ROOT

PACK = PROJECT_ROOT / "tools" / "retail"


def corpus(n: int, seed: int = 0) -> list[Chunk]:
    rng = np.random.default_rng(seed)
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((PACK / "articles").glob("*.md")))
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", re.sub(r"[#*`]", " ", text)) if len(s.split()) > 4]
    lexicon = [
        "".join(rng.choice(list("abcdefghiklmnoprstuvwy"), size=rng.integers(4, 10))) for _ in range(30_000)
    ]
    zipf = 1 / np.arange(1, len(lexicon) + 1)
    zipf /= zipf.sum()
    picked = rng.integers(0, len(sentences), size=(n, 3))
    padding = rng.choice(len(lexicon), size=(n, 25), p=zipf)
    chunks: list[Chunk] = []
    for i in range(n):
        doc = i // 4
        body = " ".join(sentences[j] for j in picked[i]) + " " + " ".join(lexicon[j] for j in padding[i])
        audience: Audience = "internal" if doc % 4 == 3 else "public"
        chunks.append(
            Chunk(f"doc{doc}#{i % 4 + 1}", f"doc{doc}", f"Article {doc}", "", body, "bench", audience)
        )
    return chunks


def queries() -> list[str]:
    return [example for intent in load_pack(PACK).intents for example in intent.examples][:200]


def measure(n: int, iterations: int) -> dict[str, object]:
    chunks = corpus(n)
    questions = queries()
    embedder = WordLlamaEmbedder()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        KnowledgeBase(chunks, index_dir=Path(tmp), embedder=embedder)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        kb = KnowledgeBase(chunks, index_dir=Path(tmp), embedder=embedder)
        load_s = time.perf_counter() - start
        lexical_kb = KnowledgeBase(chunks, index_dir=Path(tmp))
        baseline = bm25s.BM25()
        baseline.index([chunk_tokens(c) for c in chunks], show_progress=False)
        stats = _timings(kb, lexical_kb, baseline, questions, iterations)
    hybrid, plain = stats[0], stats[-1]
    return {
        "chunks": n,
        "build_s": round(build_s, 2),
        "load_s": round(load_s, 3),
        "stats": [s.to_dict() for s in stats],
        "hybrid_p95_vs_bm25s_p95": round(hybrid.p95_ms / plain.p95_ms, 2),
    }


def _timings(
    kb: KnowledgeBase, lexical_kb: KnowledgeBase, baseline: bm25s.BM25, questions: Sequence[str], n: int
) -> list[Stats]:
    from copilot.knowledge.text import tokenize

    assert kb.dense is not None
    dense = kb.dense
    allowed = kb.readable(PUBLIC_ONLY)
    vectors = [dense.query(q) for q in questions]
    tokens = [tokenize(q) or ["order"] for q in questions]
    q = len(questions)
    runs = (
        ("hybrid search (BM25 + dense + fusion, k=5, public only)", lambda i: kb.search(questions[i % q], 5)),
        ("BM25 only (ours, k=5)", lambda i: lexical_kb.search(questions[i % q], 5)),
        ("dense only (vector search, query embedded)", lambda i: dense.search(vectors[i % q], 100, allowed)),
        ("query embedding (WordLlama)", lambda i: dense.query(questions[i % q])),
        (
            "baseline: bm25s retrieve top-10",
            lambda i: baseline.retrieve([tokens[i % q]], k=10, show_progress=False),
        ),
    )
    return [summarize(name, time_sync(fn, n, warmup=20)) for name, fn in runs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = measure(args.chunks, args.iterations)
    print(f"{report['chunks']} chunks: build {report['build_s']} s, load {report['load_s']} s")
    for s in report["stats"]:  # type: ignore[attr-defined]
        print(f"  {s['name']:<60} p50 {s['p50_ms']:6.2f} ms  p95 {s['p95_ms']:6.2f} ms")
    print(f"  hybrid p95 / bm25s p95 = {report['hybrid_p95_vs_bm25s_p95']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
