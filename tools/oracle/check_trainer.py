#!/usr/bin/env python3
"""Checks `aligners train-tokenizer` against Hugging Face's BpeTrainer.

Trains HF tokenizers on the same files with the same settings, then checks
that (1) the vocabularies and merges are identical, (2) HF loads our
tokenizer.json, and (3) HF and `aligners tokenize` give the same ids for
every line of the training files. Never used by the build or `make test`.

    tools/oracle/check_trainer.py --aligners build/aligners --vocab-size 4096 \
        --pattern gpt2 --special '<|endoftext|>' FILE...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

PATTERNS = {
    "gpt2": None,
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aligners", default="build/aligners")
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--min-frequency", type=int, default=0)
    ap.add_argument("--pattern", choices=sorted(PATTERNS), default="gpt2")
    ap.add_argument("--special", action="append", default=[])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    try:
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "tokenizers"])
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    hf = Tokenizer(models.BPE())
    if PATTERNS[args.pattern] is None:
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        hf.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(PATTERNS[args.pattern]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=args.vocab_size, min_frequency=args.min_frequency,
                                  special_tokens=args.special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    hf.train(args.files, trainer)

    out = tempfile.mkdtemp()
    cmd = [args.aligners, "train-tokenizer", "--vocab-size", str(args.vocab_size), "--pattern", args.pattern,
           "--min-frequency", str(args.min_frequency), "--out", out]
    for s in args.special:
        cmd += ["--special", s]
    subprocess.check_call(cmd + args.files, stderr=subprocess.DEVNULL)
    ours_path = os.path.join(out, "tokenizer.json")
    ours = json.load(open(ours_path))
    theirs = json.loads(hf.to_str())

    ok = True
    if ours["model"]["vocab"] != theirs["model"]["vocab"]:
        ok = False
        print("vocab differs: ours %d tokens, HF %d" % (len(ours["model"]["vocab"]), len(theirs["model"]["vocab"])))
    om, tm = [tuple(m) for m in ours["model"]["merges"]], [tuple(m) for m in theirs["model"]["merges"]]
    if om != tm:
        ok = False
        first = next((i for i, (a, b) in enumerate(zip(om, tm)) if a != b), min(len(om), len(tm)))
        print("merges differ at %d: ours %s, HF %s (ours %d, HF %d merges)" % (
            first, om[first:first + 1], tm[first:first + 1], len(om), len(tm)))
    else:
        print("vocab and %d merges identical to HF BpeTrainer" % len(om))

    reloaded = Tokenizer.from_file(ours_path)  # HF accepts our file
    lines = []
    for f in args.files:
        lines += [l for l in open(f, encoding="utf-8").read().split("\n") if l][:2000]
    inp = "".join(json.dumps({"text": l}) + "\n" for l in lines)
    res = subprocess.run([args.aligners, "tokenize", "--tokenizer", ours_path], input=inp.encode(),
                         capture_output=True, check=True)
    our_ids = [json.loads(l)["ids"] for l in res.stdout.decode().splitlines()]
    bad = sum(1 for l, ids in zip(lines, our_ids) if reloaded.encode(l, add_special_tokens=False).ids != ids)
    print("encode: %d/%d lines identical between HF (loading our tokenizer.json) and aligners" % (len(lines) - bad, len(lines)))
    ok = ok and bad == 0
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
