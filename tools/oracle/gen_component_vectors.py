#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/components.jsonl: small tokenizer.json
files exercising one normalizer / pre-tokenizer / model option / added-token
flag / decoder / post-processor each, with the ids and text Hugging Face
`tokenizers` produces for a few inputs. The C++ tests replay them; they never
need Python. Regenerate (from the repository root) with:

    python3 tools/oracle/gen_component_vectors.py
"""
import json
import os
import subprocess
import sys

try:
    import tokenizers
    from tokenizers import Tokenizer
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "tokenizers"])
    import tokenizers
    from tokenizers import Tokenizer


def byte_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE = byte_chars()


def bl(s):  # text -> byte-level token spelling
    return "".join(BYTE[b] for b in s.encode())


def byte_level_vocab(merges):
    vocab = {}
    for c in sorted(BYTE.values()):
        vocab[c] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    return vocab


BL_MERGES = [(bl(" "), bl("t")), (bl("h"), bl("e")), (bl(" t"), bl("he")), (bl("i"), bl("n")),
             (bl(" "), bl("c")), (bl(" c"), bl("a")), (bl(" ca"), bl("t")), (bl("1"), bl("2")),
             (bl("12"), bl("3")), (bl("w"), bl("o")), (bl("wo"), bl("r")), (bl("wor"), bl("d")),
             (bl(" "), bl("in")), (bl("l"), bl("l")), (bl("he"), bl("ll")), (bl("hell"), bl("o")),
             (bl(" "), bl("hello"))]


def bpe(vocab, merges, **kw):
    m = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
         "vocab": vocab, "merges": [list(x) for x in merges]}
    m.update(kw)
    return m


def tokenizer(model, normalizer=None, pre=None, post=None, decoder=None, added=()):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": list(added),
            "normalizer": normalizer, "pre_tokenizer": pre, "post_processor": post, "decoder": decoder,
            "model": model}


def added(id, content, special=False, normalized=None, lstrip=False, rstrip=False, single_word=False):
    return {"id": id, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": (not special) if normalized is None else normalized, "special": special}


def ByteLevel(add_prefix_space=False, use_regex=True):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True, "use_regex": use_regex}


def Split(pattern, behavior="Isolated", invert=False, regex=False):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern}, "behavior": behavior,
            "invert": invert}


LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

BLV = byte_level_vocab(BL_MERGES)
NB = len(BLV)
BL_DEC = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}

# A SentencePiece-style vocabulary: <unk> <s> </s>, byte tokens, pieces.
SP_PIECES = ["▁", "a", "b", "c", "d", "e", "h", "l", "o", "r", "w", "t", "i", "n", "s", "x", "y", "H", "W",
             "1", "2", "3", "4", "5", "é", "▁▁", "▁t", "he", "▁the", "ll", "▁he", "▁hell", "▁hello", "or",
             "▁w", "▁wor", "ld", "▁world", "▁H", "▁He", "▁Hell", "▁Hello", "▁W", "▁Wor", "▁World", "in",
             "▁in", "is", "▁is", "▁a", "ab", "▁ab", "12", "123"]
SPV = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    SPV["<0x%02X>" % b] = len(SPV)
for p in SP_PIECES:
    SPV[p] = len(SPV)
SP_MERGES = [("▁", "t"), ("h", "e"), ("▁t", "he"), ("l", "l"), ("▁", "he"), ("▁he", "ll"), ("▁hell", "o"),
             ("o", "r"), ("▁", "w"), ("▁w", "or"), ("l", "d"), ("▁wor", "ld"), ("▁", "H"), ("▁H", "e"),
             ("▁He", "ll"), ("▁Hell", "o"), ("▁", "W"), ("▁W", "or"), ("▁Wor", "ld"), ("i", "n"), ("▁", "in"),
             ("i", "s"), ("▁", "is"), ("▁", "a"), ("a", "b"), ("▁", "ab"), ("▁", "▁"), ("1", "2"), ("12", "3")]
SP_DECODER = {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
    {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
SP_ADDED = [added(0, "<unk>", True), added(1, "<s>", True), added(2, "</s>", True)]
TEMPLATE = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}

TEXTS_EN = ["the cat", "hello world", "Hello World", " the  in", "", " ", "a\n\n  b\t c ",
            "it's THE'S 'll", "123456 7", "héllo wörld ﬁ", "x😀y", "<|eot|>the<|eot|>"]

CASES = []


def case(name, tok, texts):
    CASES.append((name, tok, texts))


# ---- pre-tokenizers --------------------------------------------------------------
case("bytelevel_regex_prefix", tokenizer(bpe(BLV, BL_MERGES), pre=ByteLevel(True, True), decoder=BL_DEC,
                                         added=[added(NB, "<|eot|>", True)]), TEXTS_EN)
case("bytelevel_no_regex", tokenizer(bpe(BLV, BL_MERGES), pre=ByteLevel(False, False), decoder=BL_DEC), TEXTS_EN)
case("bytelevel_not_last", tokenizer(bpe(BLV, BL_MERGES),
                                     pre={"type": "Sequence", "pretokenizers": [ByteLevel(False, False),
                                                                                Split("Ġ", "MergedWithNext")]},
                                     decoder=BL_DEC), TEXTS_EN)
for pat_name, pat in [("gpt2", GPT2), ("llama3", LLAMA3), ("qwen2", QWEN2)]:
    case("split_" + pat_name, tokenizer(bpe(BLV, BL_MERGES),
                                        pre={"type": "Sequence", "pretokenizers": [Split(pat, regex=True),
                                                                                   ByteLevel(False, False)]},
                                        decoder=BL_DEC), TEXTS_EN + ["'S 'ſ 'Re 'LL 'd", "1234567 ١٢٣٤", "a \r\n\r\n b  \n"])
for behavior in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
    for invert in [False, True]:
        case("split_literal_%s_%s" % (behavior, invert),
             tokenizer(bpe(BLV, BL_MERGES), pre={"type": "Sequence", "pretokenizers": [
                 Split("--", behavior, invert), ByteLevel(False, False)]}, decoder=BL_DEC),
             ["the--cat", "----the", "hello--", "--", "a---b", "no dashes"])
case("split_regex_removed_inverted", tokenizer(bpe(BLV, BL_MERGES), pre={"type": "Sequence", "pretokenizers": [
    Split(LLAMA3, "Removed", True, regex=True), ByteLevel(False, False)]}, decoder=BL_DEC), ["the cat 123"])
case("digits_individual", tokenizer(bpe(BLV, BL_MERGES), pre={"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": True}, ByteLevel(False, False)]}, decoder=BL_DEC),
     ["123 x45y", "١٢٣ ½ Ⅻ", "12"])
case("digits_contiguous", tokenizer(bpe(BLV, BL_MERGES), pre={"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": False}, ByteLevel(False, False)]}, decoder=BL_DEC),
     ["123 x45y", "١٢٣ ½ Ⅻ", "12"])
case("whitespace_split", tokenizer(bpe(BLV, BL_MERGES), pre={"type": "Sequence", "pretokenizers": [
    {"type": "WhitespaceSplit"}, ByteLevel(False, False)]}, decoder=BL_DEC), ["the  cat\u3000in\n", "   "])
for scheme in ["always", "first", "never"]:
    for split in [True, False]:
        ms = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}
        case("metaspace_%s_%s" % (scheme, split),
             tokenizer(bpe(SPV, SP_MERGES, unk_token="<unk>", fuse_unk=True, byte_fallback=True), pre=ms,
                       decoder={"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split},
                       added=SP_ADDED),
             ["Hello World", "hello  world", " the", "<s>hello</s> world", "abc ü 😀", "", "  "])

# ---- normalizers -----------------------------------------------------------------------
SPM = bpe(SPV, SP_MERGES, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
PREPEND_REPLACE = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                       {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
case("sentencepiece_like", tokenizer(SPM, normalizer=PREPEND_REPLACE, decoder=SP_DECODER, added=SP_ADDED, post=TEMPLATE),
     ["Hello World", "hello  world", " the", "<s>hello</s> world", "</s>", "abc ü 😀 ☃", "", "héllo", "wörld"])
case("sentencepiece_no_fuse", tokenizer(bpe(SPV, SP_MERGES, unk_token="<unk>", fuse_unk=False, byte_fallback=False),
                                        normalizer=PREPEND_REPLACE, decoder=SP_DECODER, added=SP_ADDED),
     ["abc ü 😀 zzq", "qq hello"])
for norm in ["NFC", "NFD", "NFKC", "NFKD", "Lowercase"]:
    case("normalizer_" + norm, tokenizer(bpe(BLV, BL_MERGES), normalizer={"type": norm}, pre=ByteLevel(False, True),
                                         decoder=BL_DEC),
         ["Café café ﬁ ①", "\u1100\u1161\u11a8 한", "e\u0301\u0323 \u1e0b\u0323", "ΑΣ İstanbul ẞ", "Ω Å K"])
case("normalizer_strip", tokenizer(bpe(BLV, BL_MERGES), normalizer={"type": "Strip", "strip_left": True,
                                                                    "strip_right": True},
                                   pre=ByteLevel(False, True), decoder=BL_DEC), ["  the cat \u3000\n", "\t"])
case("normalizer_strip_right", tokenizer(bpe(BLV, BL_MERGES), normalizer={"type": "Strip", "strip_left": False,
                                                                          "strip_right": True},
                                         pre=ByteLevel(False, True), decoder=BL_DEC), ["  the cat \u3000\n"])
case("normalizer_sequence_lowercase_nfkc", tokenizer(
    bpe(BLV, BL_MERGES), normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]},
    pre={"type": "Sequence", "pretokenizers": [Split(LLAMA3, regex=True), ByteLevel(False, False)]}, decoder=BL_DEC,
    added=[added(NB, "Hello", False, normalized=True), added(NB + 1, "WORLD", False, normalized=False),
           added(NB + 2, "<|eot|>", True)]),
    ["HELLO World ﬁ", "Hello WORLD world", "hello<|eot|>HeLLo"])

# ---- added tokens ---------------------------------------------------------------------
case("added_flags", tokenizer(bpe(BLV, BL_MERGES), pre=ByteLevel(False, True), decoder=BL_DEC, added=[
    added(NB, "[MASK]", True, lstrip=True, rstrip=True),
    added(NB + 1, "word", False, single_word=True),
    added(NB + 2, "<sep>", True, lstrip=True),
    added(NB + 3, "<eot>", False, rstrip=True),
    added(NB + 4, "<eot><eot>", True)]),
    ["a [MASK] b", "a  [MASK]\tb", "[MASK][MASK]", "word words sword word.", "é word_x word1 -word-",
     "x <sep> y", "<eot>  z<eot><eot>", "<eot><eot><eot>", "wordword"])

# ---- model options ---------------------------------------------------------------------
IGN_MERGES = [(bl("a"), bl("b")), (bl("b"), bl("c")), (bl("ab"), bl("c"))]
IGN_V = byte_level_vocab(IGN_MERGES)
IGN_V[bl("a") + bl("bc")] = IGN_V.get(bl("abc"))  # no-op: abc exists
IGN_V[bl("bca")] = len(IGN_V)
for ignore in [False, True]:
    case("ignore_merges_%s" % ignore, tokenizer(bpe(IGN_V, IGN_MERGES, ignore_merges=ignore),
                                                pre=ByteLevel(False, True), decoder=BL_DEC),
         ["bca abc abcabc", "bcab"])
TINY = {"<unk>": 0, "a": 1, "<0xC3>": 2, "<0xA9>": 3}
for fuse in [False, True]:
    for fallback in [False, True]:
        case("unk_fuse_%s_fallback_%s" % (fuse, fallback),
             tokenizer(bpe(TINY, [], unk_token="<unk>", fuse_unk=fuse, byte_fallback=fallback)),
             ["bé", "bbéb", "aéba", "ü", "bü", "a"])
case("no_unk_drops", tokenizer(bpe({"a": 0, "b": 1}, [])), ["acb", "ccc"])

# ---- post-processors ---------------------------------------------------------------------
case("bert_processing", tokenizer(bpe(BLV, BL_MERGES), pre=ByteLevel(False, True), decoder=BL_DEC,
                                  post={"type": "BertProcessing", "sep": ["</s>", NB + 1], "cls": ["<s>", NB]},
                                  added=[added(NB, "<s>", True), added(NB + 1, "</s>", True)]), ["the cat"])
case("sequence_post", tokenizer(bpe(BLV, BL_MERGES), pre=ByteLevel(False, True), decoder=BL_DEC,
                                post={"type": "Sequence", "processors": [
                                    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                                     "use_regex": True},
                                    {"type": "TemplateProcessing",
                                     "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                {"Sequence": {"id": "A", "type_id": 0}}],
                                     "pair": [{"Sequence": {"id": "A", "type_id": 0}}],
                                     "special_tokens": {"<s>": {"id": "<s>", "ids": [NB], "tokens": ["<s>"]}}}]},
                                added=[added(NB, "<s>", True)]), ["the cat", ""])

# ---- decoders -----------------------------------------------------------------------------
for dec_name, dec in [
        ("strip_both", {"type": "Strip", "content": " ", "start": 1, "stop": 1}),
        ("metaspace_default", {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}),
        ("replace_fuse", {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "Fuse"}]}),
        ("byte_fallback_only", {"type": "ByteFallback"}),
        ("none", None)]:
    case("decoder_" + dec_name, tokenizer(bpe(SPV, SP_MERGES, unk_token="<unk>", fuse_unk=True, byte_fallback=True),
                                          normalizer=PREPEND_REPLACE, decoder=dec, added=SP_ADDED),
         ["Hello World", "  hello", "abc ü 😀", "<s>a</s>"])


def training_vectors(shared):
    """HF BpeTrainer's merges on the first ~60 KB of shared/data/gutenberg/wonderland.txt."""
    from tokenizers import Regex, models, pre_tokenizers, trainers
    import tempfile
    data = open(os.path.join(shared, "data", "gutenberg", "wonderland.txt"), "rb").read()[:60000]
    data = data[:data.rindex(b"\n") + 1]
    path = os.path.join(tempfile.mkdtemp(), "corpus.txt")
    open(path, "wb").write(data)
    out = {"source": "data/gutenberg/wonderland.txt", "bytes": len(data), "vocab_size": 400,
           "special_tokens": ["<|endoftext|>", "<pad>"], "merges": {}}
    for name, pat in [("gpt2", None), ("llama3", LLAMA3), ("qwen2", QWEN2)]:
        tok = Tokenizer(models.BPE())
        if pat is None:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pat), behavior="isolated"),
                                                         pre_tokenizers.ByteLevel(add_prefix_space=False,
                                                                                  use_regex=False)])
        trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=out["special_tokens"], show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train([path], trainer)
        out["merges"][name] = json.loads(tok.to_str())["model"]["merges"]
    return out


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures",
                            "tokenizer", "components.jsonl")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    lines = []
    for name, tok_json, texts in CASES:
        text = json.dumps(tok_json, ensure_ascii=False)
        tok = Tokenizer.from_str(text)
        results = []
        for t in texts:
            ids = tok.encode(t, add_special_tokens=False).ids
            ids_special = tok.encode(t, add_special_tokens=True).ids
            results.append({"text": t, "ids": ids, "ids_special": ids_special,
                            "decoded": tok.decode(ids_special, skip_special_tokens=False),
                            "decoded_skip": tok.decode(ids_special, skip_special_tokens=True)})
        lines.append(json.dumps({"name": name, "tokenizer": tok_json, "cases": results}, ensure_ascii=False))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("# generated by tools/oracle/gen_component_vectors.py with HF tokenizers %s\n" % tokenizers.__version__)
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d tokenizers, %d cases" % (out_path, len(lines), sum(len(c[2]) for c in CASES)))
    shared = os.environ.get("ALIGNERS_SHARED") or os.path.join(os.path.dirname(out_path), "..", "..", "..", "..", "shared")
    train_path = os.path.join(os.path.dirname(out_path), "trained_wonderland.json")
    with open(train_path, "w", encoding="utf-8") as f:
        json.dump(training_vectors(shared), f, ensure_ascii=False)
        f.write("\n")
    print("wrote " + train_path)


if __name__ == "__main__":
    main()
