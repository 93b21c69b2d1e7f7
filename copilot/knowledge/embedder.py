"""Dense text embedders. The default, WordLlama (l2_supercat, 256-d), ships its weights and tokenizer in its
wheel and loads offline in ~0.1 s; a sentence-transformers model from a local directory is an optional extra.
Nothing here downloads anything."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from copilot.errors import CopilotError, ErrorCode

Vectors = np.ndarray[Any, np.dtype[np.float32]]
DEFAULT_EMBEDDER = "wordllama"


class Embedder(Protocol):
    name: str
    """Identifies the model (part of the saved index's key: another model never reuses the vectors)."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""
        ...


class WordLlamaEmbedder:
    """WordLlama from the package directory (its default lookup would try to download the tokenizer)."""

    def __init__(self) -> None:
        import wordllama

        logging.getLogger("wordllama").setLevel(logging.WARNING)
        package = Path(wordllama.__file__).parent
        self._model = wordllama.WordLlama.load(cache_dir=package, disable_download=True)
        self.name = "wordllama-l2_supercat-256"

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        vectors = self._model.embed(list(texts), norm=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory (`pip install 'support-copilot[embeddings]'`)."""

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise CopilotError(
                ErrorCode.CONFIGURATION, f"COPILOT_KB_EMBEDDER: {path} is not a local model directory."
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise CopilotError(
                ErrorCode.CONFIGURATION,
                "COPILOT_KB_EMBEDDER=st:… needs sentence-transformers: pip install 'support-copilot[embeddings]'.",
            ) from exc
        self._model = SentenceTransformer(str(path), local_files_only=True)
        self.name = f"st-{path.name}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def make_embedder(spec: str) -> Embedder | None:
    """`wordllama` (default), `none` (BM25 only) or `st:<local model directory>`."""
    if spec == "none":
        return None
    if spec == "wordllama":
        return WordLlamaEmbedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(Path(spec[3:]).expanduser())
    raise CopilotError(
        ErrorCode.CONFIGURATION,
        f"COPILOT_KB_EMBEDDER={spec!r}: use 'wordllama', 'none' or 'st:<local model directory>'.",
    )
