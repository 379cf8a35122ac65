#!/usr/bin/env python3
"""Fixture for `aligners data render`: each aligner template's training
sequence of a few hand-written Q-A-C records, computed the way the papers'
released code builds it, with Hugging Face tokenizers.

  - PKU (Ji et al., safe-rlhf-style SupervisedDataset), templates ji and ji2024:
        text = prompt + correction + tokenizer.eos_token
        input_ids = tokenizer(text)["input_ids"]           (add_special_tokens=True)
        labels[:len(tokenizer(prompt)["input_ids"])] = IGNORE
  - Ngweta et al.: tokenizer.add_tokens([" [INIT] ", " [ALIGNED] ", " [DONE]"]),
        text = x + " [INIT] " + y + " [ALIGNED] " + y' + " [DONE]"
        prompt = x + " [INIT] " + y + " [ALIGNED] ", labels masked the same way.

The optional `instruction` field goes where aligners puts it (the template's
{instruction} slot, " " + instruction); without it the texts are the papers'.

Needs PyPI `tokenizers==0.22.2` and `transformers<5` (the papers' era: the
fast tokenizer loads tokenizer.json as is). No model hub: the tokenizers are
the local directories under $ALIGNERS_SHARED/tokenizers.

  pip install tokenizers==0.22.2 "transformers<5"
  python3 tools/oracle/make_render_fixture.py [--shared ../shared] [--out tests/fixtures/aligner_render]
"""
import argparse
import json
import os

import tokenizers
import transformers
from transformers import AutoTokenizer

IGNORE = -100

TEMPLATES = {
    "ji": "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and "
          "harmless{instruction}: {question} | {answer} ASSISTANT:",
    "ji2024": "##Question: {question}{instruction} ##Answer: {answer} ##Correction: ",
    "ngweta": "{question}{instruction} [INIT] {answer} [ALIGNED] ",
}
NGWETA_MARKERS = [" [INIT] ", " [ALIGNED] ", " [DONE]"]


def fill(template, rec):
    instr = rec.get("instruction", "")
    # one pass, so braces inside the texts are never placeholders
    out, i = "", 0
    slots = {"{question}": rec["question"], "{answer}": rec["answer"],
             "{instruction}": (" " + instr) if instr else ""}
    while i < len(template):
        for k, v in slots.items():
            if template.startswith(k, i):
                out += v
                i += len(k)
                break
        else:
            out += template[i]
            i += 1
    return out


def sequence(tok, name, rec):
    prompt = fill(TEMPLATES[name], rec)
    if name == "ngweta":
        text = prompt + rec["correction"] + " [DONE]"
    else:
        text = prompt + rec["correction"] + tok.eos_token
    ids = tok(text)["input_ids"]
    n_prompt = len(tok(prompt)["input_ids"])
    mask = [0 if i < n_prompt else 1 for i in range(len(ids))]
    return {"text": text, "ids": ids, "loss_mask": mask}


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--shared", default=os.environ.get("ALIGNERS_SHARED", os.path.join(here, "../../../shared")))
    ap.add_argument("--out", default=os.path.join(here, "../../tests/fixtures/aligner_render"))
    a = ap.parse_args()
    with open(os.path.join(a.out, "qac.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    result = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__, "expected": {}}
    for tname in ["mistral", "llama3"]:
        path = os.path.join(a.shared, "tokenizers", tname)
        for name in TEMPLATES:
            tok = AutoTokenizer.from_pretrained(path)
            if name == "ngweta":
                tok.add_tokens(NGWETA_MARKERS)
            result["expected"][f"{tname}/{name}"] = [sequence(tok, name, r) for r in records]
    with open(os.path.join(a.out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
