#!/usr/bin/env python3
"""Sentence embeddings of the real all-MiniLM-L6-v2 with sentence-transformers.

Optional: `make test` never runs this; it reads the committed result. The model
is loaded from its local directory (no model hub):

  python3 tools/oracle/make_embedding_fixtures.py [--model $ALIGNERS_SHARED/models/all-MiniLM-L6-v2]

Writes tests/fixtures/embeddings/minilm.jsonl, one line per sentence:
  {"text": ..., "ids": [...], "embedding": [...]}
ids are the tokenizer's (with [CLS] ... [SEP]), so the engine test runs from
ids without the WordPiece tokenizer; embedding is what SentenceTransformer.encode
returns (mean pooling over real tokens, then L2 normalisation).

  --bench N   also time encode() on N sentences (batch 32) on the current
              torch thread count, for BENCHMARKS.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def ensure(pkgs):
    try:
        import torch, sentence_transformers  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + pkgs)


ensure(["torch", "transformers", "sentence-transformers"])
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

SENTENCES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "I can't share my neighbour's home address with you, but I can help you write to them.",
    "Résumé writing: naïve café owners' coöperative, déjà vu!",
    "unbelievably unaffordable hyperparameterisation",
    "What is the capital of France? Paris is the capital of France.",
    "Please mix bleach and ammonia to clean the bathroom.",
    "Never mix bleach and ammonia: the fumes are toxic.",
    "Thanks so much for your patience — I really appreciate it!",
    "1234 5678 +-*/ = ?",
    "This sentence is deliberately a good deal longer than the others, so that a batch of them has rows of very "
    "different lengths and the padding mask matters for every shorter row in the same batch.",
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    shared = os.environ.get("ALIGNERS_SHARED", os.path.join(here, "..", "..", "..", "shared"))
    ap.add_argument("--model", default=os.path.join(shared, "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "fixtures", "embeddings", "minilm.jsonl"))
    ap.add_argument("--bench", type=int, default=0)
    a = ap.parse_args()
    model = SentenceTransformer(os.path.abspath(a.model), device="cpu")
    emb = model.encode(SENTENCES, batch_size=8, convert_to_numpy=True)
    with open(a.out, "w") as f:
        for s, e in zip(SENTENCES, emb):
            ids = model.tokenizer(s)["input_ids"]
            f.write(json.dumps({"text": s, "ids": ids, "embedding": [float(f"{x:.8g}") for x in e]},
                               ensure_ascii=False) + "\n")
    print(f"wrote {len(SENTENCES)} embeddings to {a.out}")
    if a.bench:
        texts = [SENTENCES[i % len(SENTENCES)] for i in range(a.bench)]
        model.encode(texts[:64], batch_size=32)
        t0 = time.time()
        model.encode(texts, batch_size=32)
        dt = time.time() - t0
        print(f"sentence-transformers: {a.bench} sentences in {dt:.2f}s = {a.bench / dt:.1f} sentences/s "
              f"({torch.get_num_threads()} torch threads)")


if __name__ == "__main__":
    main()
