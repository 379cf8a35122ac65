#!/usr/bin/env python3
"""Writes the WordPiece conformance vectors: what Hugging Face `tokenizers`
(0.22.2, as for the other tokenizers' vectors in ../shared/conformance) gives
for the all-MiniLM-L6-v2 tokenizer (bert-base-uncased's vocabulary) on the
shared corpus -- the texts of ../shared/conformance/tokenizer/gpt2.jsonl.gz.
The C++ tests replay them (tests/tokenizer/wordpiece_test.cpp); they never
need Python.

  tests/fixtures/tokenizer/minilm_wordpiece.jsonl.gz
      a "#" comment line, then one line per document, in corpus order (the
      text itself is read from the corpus by the test, to keep this small):
      {"src", "ids", "ids_special", "decoded", "decoded_special", "decoded_skip"}
      ids = encode(text, add_special_tokens=False); ids_special with special
      tokens; decoded = decode(ids); decoded_special = decode(ids_special);
      decoded_skip = decode(ids_special, skip_special_tokens=True).
      Then one line per pair of consecutive documents (i, i+1), each text cut
      to its first 400 characters:
      {"pair": i, "text", "text_pair", "ids", "type_ids", "ids_plain", "type_ids_plain",
       "max_length", "ids_trunc", "type_ids_trunc", "ids_plain_trunc"}
      (with and without special tokens; *_trunc: with HF's longest_first
      truncation to max_length, which cycles through TRUNCATE_TO).
      Each document line also has "max_length" and "ids_trunc" (its ids with
      special tokens, truncated).
  tests/fixtures/tokenizer/pairs.jsonl
      pair encoding (ids and type ids, with and without special tokens) for
      every post-processor kind: the shared gpt2 / llama3 / qwen3 / mistral
      tokenizers on a few short corpus pairs, and small WordPiece tokenizers
      with BertProcessing, RobertaProcessing, TemplateProcessing (odd type
      ids), Sequence [ByteLevel, TemplateProcessing] and no post-processor:
      {"name", "path" (under ../shared) or "tokenizer" (tokenizer.json), "cases": [
        {"text", "text_pair", "ids", "type_ids", "ids_plain", "type_ids_plain",
         "single_ids", "single_type_ids", "single_type_ids_plain" (of text alone)}]}
  tests/fixtures/tokenizer/bert_chars.json
      every code point's class under BertNormalizer / BertPreTokenizer, as
      sorted [first, last] ranges: "removed" (clean_text drops it), "space"
      (clean_text makes it ' '), "punctuation" (BertPreTokenizer isolates it
      between letters), "stripped" (strip_accents drops it after "a"),
      "chinese" (handle_chinese_chars puts spaces around it).

The tokenizer.json sets truncation (128) and padding (128); both are turned
off here, since aligners' encode() returns whole sequences.

Run from the repository root (the HF model hub is never used; the tokenizer
is read from ../shared or $ALIGNERS_SHARED):

    pip install tokenizers==0.22.2
    python3 tools/oracle/make_wordpiece_vectors.py [--no-chars]

(--no-chars skips bert_chars.json, the slow part: a minute or two.)
"""
import gzip
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

PAIR_CHARS = 400
TRUNCATE_TO = [2, 3, 4, 7, 16, 33, 128, 512]


def shared_dir():
    return os.environ.get("ALIGNERS_SHARED") or os.path.join(os.path.dirname(os.getcwd()), "shared")


def read_corpus(path):
    docs = []
    with gzip.open(path, "rb") as f:
        for line in f.read().decode("utf-8").split("\n"):  # \n only: texts may hold U+2028
            if line.strip():
                docs.append(json.loads(line))
    return docs


def ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def char_classes():
    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    chinese = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    pre = BertPreTokenizer()
    sets = {"removed": [], "space": [], "punctuation": [], "stripped": [], "chinese": []}
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        r = clean.normalize_str(c)
        if r == "":
            sets["removed"].append(cp)
        elif r == " " and c != " ":
            sets["space"].append(cp)
        if len(pre.pre_tokenize_str("x" + c + "x")) == 3:
            sets["punctuation"].append(cp)
        if strip.normalize_str("a" + c) == "a":
            sets["stripped"].append(cp)
        if chinese.normalize_str(c) == " " + c + " ":
            sets["chinese"].append(cp)
    return {k: ranges(v) for k, v in sets.items()}


def tiny_wordpiece(post):
    vocab = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4, "##ff": 5, "[CLS]": 6, "[SEP]": 7, ".": 8, ",": 9,
             "do": 10, "not": 11}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                           "strip_accents": None, "lowercase": True},
            "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": post,
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": vocab}}


def pair_vectors(shared, docs):
    def cases_of(tok, pairs):
        tok.no_truncation()
        tok.no_padding()
        out = []
        for a, b in pairs:
            e, p = tok.encode(a, b), tok.encode(a, b, add_special_tokens=False)
            s, sp = tok.encode(a), tok.encode(a, add_special_tokens=False)
            out.append({"text": a, "text_pair": b, "ids": e.ids, "type_ids": e.type_ids,
                        "ids_plain": p.ids, "type_ids_plain": p.type_ids,
                        "single_ids": s.ids, "single_type_ids": s.type_ids, "single_type_ids_plain": sp.type_ids})
        return out

    entries = []
    corpus_pairs = [(docs[i]["text"][:120], docs[i + 1]["text"][:120]) for i in range(0, 300, 15)]
    for name in ["gpt2", "llama3", "qwen3", "mistral"]:
        path = f"tokenizers/{name}"
        tok = Tokenizer.from_file(os.path.join(shared, path, "tokenizer.json"))
        entries.append({"name": name, "path": path, "cases": cases_of(tok, corpus_pairs)})
    specials = {"[CLS]": {"id": "[CLS]", "ids": [6], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [7], "tokens": ["[SEP]"]}}
    template = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 1}}, {"Sequence": {"id": "A", "type_id": 2}}],
                "pair": [{"Sequence": {"id": "B", "type_id": 2}}, {"SpecialToken": {"id": "[SEP]", "type_id": 3}},
                         {"Sequence": {"id": "A", "type_id": 4}}, {"SpecialToken": {"id": "[CLS]", "type_id": 0}}],
                "special_tokens": specials}
    processors = {
        "none": None,
        "bert": {"type": "BertProcessing", "sep": ["[SEP]", 7], "cls": ["[CLS]", 6]},
        "roberta": {"type": "RobertaProcessing", "sep": ["[SEP]", 7], "cls": ["[CLS]", 6], "trim_offsets": True,
                    "add_prefix_space": False},
        "template": template,
        "sequence": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}, template]},
        "bert_then_template": {"type": "Sequence", "processors": [
            {"type": "BertProcessing", "sep": ["[SEP]", 7], "cls": ["[CLS]", 6]}, template]},
    }
    tiny_pairs = [("un", "a"), ("Unaffable, do", "not a."), ("", "a"), ("a", ""), ("", ""), ("zzz un", "[SEP] a")]
    for name, post in processors.items():
        tj = tiny_wordpiece(post)
        tok = Tokenizer.from_str(json.dumps(tj))
        entries.append({"name": "wordpiece_" + name, "tokenizer": tj, "cases": cases_of(tok, tiny_pairs)})
    return entries


def main():
    if tokenizers.__version__ != "0.22.2":
        print(f"warning: tokenizers {tokenizers.__version__}, the vectors were made with 0.22.2", file=sys.stderr)
    shared = shared_dir()
    tok = Tokenizer.from_file(os.path.join(shared, "models/all-MiniLM-L6-v2/tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    docs = read_corpus(os.path.join(shared, "conformance/tokenizer/gpt2.jsonl.gz"))
    out_dir = "tests/fixtures/tokenizer"
    lines = [f"# generated by tools/oracle/make_wordpiece_vectors.py with HF tokenizers {tokenizers.__version__}: "
             f"all-MiniLM-L6-v2 tokenizer.json on the {len(docs)} texts of conformance/tokenizer/gpt2.jsonl.gz"]
    trunc = Tokenizer.from_file(os.path.join(shared, "models/all-MiniLM-L6-v2/tokenizer.json"))
    trunc.no_padding()

    def truncated(max_length, *args, **kwargs):
        trunc.enable_truncation(max_length, strategy="longest_first", direction="right", stride=0)
        return trunc.encode(*args, **kwargs)

    for i, d in enumerate(docs):
        text = d["text"]
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_special = tok.encode(text).ids
        max_length = TRUNCATE_TO[i % len(TRUNCATE_TO)]
        lines.append(json.dumps({
            "src": d["src"], "ids": ids, "ids_special": ids_special,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_special": tok.decode(ids_special, skip_special_tokens=False),
            "decoded_skip": tok.decode(ids_special, skip_special_tokens=True),
            "max_length": max_length, "ids_trunc": truncated(max_length, text).ids,
        }, ensure_ascii=False))
    for i in range(len(docs) - 1):
        a, b = docs[i]["text"][:PAIR_CHARS], docs[i + 1]["text"][:PAIR_CHARS]
        e, p = tok.encode(a, b), tok.encode(a, b, add_special_tokens=False)
        max_length = TRUNCATE_TO[i % len(TRUNCATE_TO)]
        et, pt = truncated(max_length, a, b), truncated(max_length, a, b, add_special_tokens=False)
        lines.append(json.dumps({"pair": i, "text": a, "text_pair": b, "ids": e.ids, "type_ids": e.type_ids,
                                 "ids_plain": p.ids, "type_ids_plain": p.type_ids, "max_length": max_length,
                                 "ids_trunc": et.ids, "type_ids_trunc": et.type_ids, "ids_plain_trunc": pt.ids},
                                ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path = os.path.join(out_dir, "minilm_wordpiece.jsonl.gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"wrote {path}: {len(docs)} documents, {len(docs) - 1} pairs, {os.path.getsize(path)} bytes")

    path = os.path.join(out_dir, "pairs.jsonl")
    with open(path, "w") as f:
        f.write(f"# generated by tools/oracle/make_wordpiece_vectors.py with HF tokenizers {tokenizers.__version__}\n")
        for entry in pair_vectors(shared, docs):
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(f"wrote {path}")

    if "--no-chars" in sys.argv:
        return
    classes = char_classes()
    path = os.path.join(out_dir, "bert_chars.json")
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(f'"{k}": {json.dumps(v)}' for k, v in classes.items()) + "\n}\n")
    print(f"wrote {path}: " + ", ".join(f"{k} {len(v)} ranges" for k, v in classes.items()))


if __name__ == "__main__":
    main()
