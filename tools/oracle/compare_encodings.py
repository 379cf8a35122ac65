#!/usr/bin/env python3
"""Encodes text with Hugging Face `tokenizers` and with `aligners tokenize` /
`detokenize` and reports every difference. Use it to check a tokenizer.json
that the shared conformance sets do not cover. Never used by `make test`.

    tools/oracle/compare_encodings.py --tokenizer MODEL_DIR [--add-special-tokens] FILE...

FILEs: .jsonl (a "text" field per line) or plain text (one document per line).
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aligners", default="build/aligners")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json or a directory with one")
    ap.add_argument("--add-special-tokens", action="store_true")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    try:
        from tokenizers import Tokenizer
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "tokenizers"])
        from tokenizers import Tokenizer
    path = args.tokenizer
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    hf = Tokenizer.from_file(path)

    docs = []
    for f in args.files:
        text = open(f, encoding="utf-8").read()
        if f.endswith(".jsonl"):
            docs += [json.loads(l)["text"] for l in text.split("\n") if l.strip()]
        else:
            docs += [l for l in text.split("\n") if l]
    run = lambda cmd, lines: subprocess.run(cmd, input="".join(json.dumps(x) + "\n" for x in lines).encode(),
                                            capture_output=True, check=True).stdout.decode().splitlines()
    cmd = [args.aligners, "tokenize", "--tokenizer", args.tokenizer]
    if args.add_special_tokens:
        cmd.append("--add-special-tokens")
    ours = [json.loads(l)["ids"] for l in run(cmd, [{"text": d} for d in docs])]
    theirs = [e.ids for e in hf.encode_batch(docs, add_special_tokens=args.add_special_tokens)]
    decoded = [json.loads(l)["text"] for l in run([args.aligners, "detokenize", "--tokenizer", args.tokenizer],
                                                   [{"ids": ids} for ids in theirs])]
    bad = 0
    for i, (d, a, b, t) in enumerate(zip(docs, ours, theirs, decoded)):
        hf_text = hf.decode(b, skip_special_tokens=False)
        if a != b or t != hf_text:
            bad += 1
            if bad <= 5:
                print("document %d: %r\n  HF ids:   %s\n  ours:     %s\n  HF text:  %r\n  ours:     %r" % (
                    i, d[:200], b[:40], a[:40], hf_text[:200], t[:200]))
    print("%d/%d documents identical (ids and decoded text)" % (len(docs) - bad, len(docs)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
