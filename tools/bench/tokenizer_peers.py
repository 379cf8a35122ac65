#!/usr/bin/env python3
"""Side-by-side tokenizer throughput: aligners vs tiktoken vs HF tokenizers.

Same documents (the shared conformance sets: each record's "text"), same
run, interleaved rounds, single thread everywhere; best round reported.
Besides wall-clock MB/s it reports MB per CPU-second, which stays meaningful
on a machine shared with other jobs. tiktoken's Encoding is built offline
from the shared vocabulary files (ranks = ids, the vocabulary's own regex).
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import time


def byte_decoder():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def tiktoken_encoding(tok_json_path, name):
    import tiktoken
    d = json.load(open(tok_json_path, encoding="utf-8"))
    dec = byte_decoder()
    ranks = {bytes(dec[c] for c in tok): i for tok, i in d["model"]["vocab"].items()}
    specials = {t["content"]: t["id"] for t in d["added_tokens"]}
    for s in specials:
        ranks.pop(s.encode(), None)
    pre = d["pre_tokenizer"]
    if pre["type"] == "ByteLevel":
        pat = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    else:
        pat = pre["pretokenizers"][0]["pattern"]["Regex"]
    return tiktoken.Encoding(name=name, pat_str=pat, mergeable_ranks=ranks, special_tokens=specials)


def load_docs(path):
    docs = []
    for line in gzip.open(path).read().split(b"\n"):
        if line:
            docs.append(json.loads(line)["text"])
    return docs


def timed(fn):
    w0, c0 = time.perf_counter(), time.thread_time()
    n = fn()
    return time.perf_counter() - w0, time.thread_time() - c0, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aligners", default="build/aligners")
    ap.add_argument("--shared", default=os.environ.get("ALIGNERS_SHARED", "../shared"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("vocabs", nargs="*", default=["gpt2", "llama3"])
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    import tiktoken
    import tokenizers

    rows = []
    for name in args.vocabs:
        tok_dir = os.path.join(args.shared, "tokenizers", name)
        corpus = os.path.join(args.shared, "conformance", "tokenizer", name + ".jsonl.gz")
        docs = load_docs(corpus)
        mb = sum(len(d.encode()) for d in docs) / 1e6
        enc = tiktoken_encoding(os.path.join(tok_dir, "tokenizer.json"), name)
        hf = tokenizers.Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))

        def run_tiktoken():
            return sum(len(enc.encode_ordinary(d)) for d in docs)

        def run_hf():
            return sum(len(e.ids) for e in hf.encode_batch(docs, add_special_tokens=False))

        def run_ours():
            out = subprocess.run([args.aligners, "bench", "tokenize", "--tokenizer", tok_dir, "--threads", "1",
                                  "--repeat", "1", corpus], capture_output=True, text=True, check=True).stdout
            # table row: threads seconds cpu-seconds MB/s tokens/s tokens
            row = re.search(r"^\s+1\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+\d+\s+(\d+)\s*$", out, re.M)
            return float(row.group(1)), float(row.group(2)), int(row.group(3))

        run_tiktoken(), run_hf()  # warm-up
        best = {}
        for _ in range(args.rounds):
            for peer, fn in [("aligners", None), ("tiktoken", run_tiktoken), ("HF tokenizers", run_hf)]:
                wall, cpu, n = run_ours() if fn is None else timed(fn)
                b = best.setdefault(peer, [wall, cpu, n])
                b[0], b[1] = min(b[0], wall), min(b[1], cpu)
        for peer in ["aligners", "tiktoken", "HF tokenizers"]:
            wall, cpu, n = best[peer]
            rows.append((name, peer, mb / wall, mb / cpu, n / cpu, n))
        tk_cpu = best["tiktoken"][1]
        rows.append((name, "aligners / tiktoken", tk_cpu and best["tiktoken"][0] / best["aligners"][0],
                     tk_cpu / best["aligners"][1], None, None))

    print("tiktoken %s, tokenizers %s, %d rounds (best), single thread, load average %.1f" % (
        tiktoken.__version__, tokenizers.__version__, args.rounds, os.getloadavg()[0]))
    print()
    print("| vocabulary | encoder | MB/s (wall) | MB per CPU-second | tokens per CPU-second | tokens |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, peer, wall, cpu, tps, n in rows:
        if n is None:
            print("| %s | **%s** | %.1fx | %.1fx | | |" % (name, peer, wall, cpu))
        else:
            print("| %s | %s | %.2f | %.2f | %.0f | %d |" % (name, peer, wall, cpu, tps, n))


if __name__ == "__main__":
    main()
