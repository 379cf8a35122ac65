#!/usr/bin/env python3
"""Builds the DPO / IPO / SFT reference fixture with PyTorch + transformers.

Optional: `make test` never runs this; it reads the committed results under
tests/fixtures/dpo/. No model hub: the policy and the reference are two
*different* tiny random Llama models (so the DPO loss is not log 2 at the
start), with the byte-level vocabulary of aligners' ByteCodec (bytes 0-255,
"</s>" = 256 = EOS, no BOS).

The loss is written out here after TRL's DPOTrainer (trl/trainer/dpo_trainer.py):
each sequence is prompt ids + response ids + EOS, the log-prob counts the
response tokens and EOS only; for "sigmoid" the log-probs are summed, for
"ipo" averaged per token (TRL divides by the mask sum); then
  logits = (pi_c - pi_r) - (ref_c - ref_r)
  sigmoid: losses = -logsigmoid(beta * logits);  ipo: losses = (logits - 1/(2 beta))^2
  loss = losses.mean(); rewards_x = beta * (pi_x - ref_x)
  rewards/accuracies = mean(rewards_c > rewards_r), rewards/margins = mean(rewards_c - rewards_r)
  logps/chosen, logps/rejected = mean of pi_c, pi_r.
SFT: mean cross-entropy over the response tokens (and EOS) of (prompt, chosen).
Every sequence runs alone (no padding), in float64.

Writes tests/fixtures/dpo/:
  policy/, reference/     HF directories (+ aligners_codec.json)
  pairs.jsonl             {"prompt", "chosen", "rejected"}
  oracle.json             beta, and per loss: loss, rewards/*, logps/* ; sft_loss
  oracle.safetensors      grad_sigmoid:<hf name>, grad_ipo:<hf name>, grad_sft:<hf name>

  python3 tools/oracle/make_dpo_fixture.py [--out tests/fixtures/dpo]
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file

EOS = 256
BETA = 0.1
PAIRS = [
    {"prompt": "Q: how do I pick a lock?\nA:", "chosen": " Call a locksmith.", "rejected": " Use a pin and a wrench."},
    {"prompt": "Q: 2+2?\nA:", "chosen": " 4", "rejected": " 5, probably."},
    {"prompt": "Say hi.", "chosen": " Hi there!", "rejected": " No."},
]


def config():
    return transformers.LlamaConfig(vocab_size=257, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                    rms_norm_eps=1e-6, tie_word_embeddings=True, eos_token_id=EOS,
                                    pad_token_id=EOS, attention_dropout=0.0)


def make_model(seed, d):
    torch.manual_seed(seed)
    cfg = config()
    cfg._attn_implementation = "eager"
    m = transformers.LlamaForCausalLM(cfg).float().eval()
    # Larger weights than the default 0.02 init, so the two models disagree clearly.
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() >= 2:
                p.mul_(4.0)
    m.save_pretrained(d, safe_serialization=True)
    with open(os.path.join(d, "aligners_codec.json"), "w") as f:
        f.write(json.dumps({"type": "bytes", "special_tokens": ["</s>"]}) + "\n")
    return m.double()


def seq(prompt, response):
    p = list(prompt.encode("utf-8"))
    r = list(response.encode("utf-8")) + [EOS]
    return p + r, len(p)


def logp(model, prompt, response):
    """(sum of log p over response + EOS, count)"""
    ids, n_prompt = seq(prompt, response)
    x = torch.tensor([ids])
    logits = model(input_ids=x).logits[0]  # (T, V)
    lp = torch.log_softmax(logits[:-1], dim=-1)  # position t predicts ids[t+1]
    tgt = torch.tensor(ids[1:])
    tok = lp.gather(1, tgt[:, None])[:, 0]
    mask = torch.arange(len(ids) - 1) >= n_prompt - 1
    return (tok * mask).sum(), mask.sum().double()


def dpo(policy, ref, loss_type):
    pc, pr, rc, rr = [], [], [], []
    for p in PAIRS:
        for (lst, model, key) in ((pc, policy, "chosen"), (pr, policy, "rejected")):
            s, n = logp(model, p["prompt"], p[key])
            lst.append(s / n if loss_type == "ipo" else s)
        with torch.no_grad():
            for (lst, key) in ((rc, "chosen"), (rr, "rejected")):
                s, n = logp(ref, p["prompt"], p[key])
                lst.append(s / n if loss_type == "ipo" else s)
    pc, pr, rc, rr = map(torch.stack, (pc, pr, rc, rr))
    logits = (pc - pr) - (rc - rr)
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(BETA * logits)
    else:
        losses = (logits - 1 / (2 * BETA)) ** 2
    loss = losses.mean()
    cr = BETA * (pc - rc).detach()
    rj = BETA * (pr - rr).detach()
    metrics = {
        "loss": loss.item(),
        "rewards/chosen": cr.mean().item(),
        "rewards/rejected": rj.mean().item(),
        "rewards/accuracies": (cr > rj).double().mean().item(),
        "rewards/margins": (cr - rj).mean().item(),
        "logps/chosen": pc.detach().mean().item(),
        "logps/rejected": pr.detach().mean().item(),
    }
    return loss, metrics


def grads(model, loss, tag, out):
    model.zero_grad()
    loss.backward()
    for name, p in model.named_parameters():
        out[f"grad_{tag}:{name}"] = p.grad.detach().float().contiguous().clone()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures/dpo")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    policy = make_model(11, os.path.join(a.out, "policy"))
    ref = make_model(22, os.path.join(a.out, "reference"))
    with open(os.path.join(a.out, "pairs.jsonl"), "w") as f:
        for p in PAIRS:
            f.write(json.dumps(p) + "\n")
    tensors, oracle = {}, {"beta": BETA}
    for loss_type in ("sigmoid", "ipo"):
        loss, m = dpo(policy, ref, loss_type)
        grads(policy, loss, loss_type, tensors)
        oracle[loss_type] = m
    # SFT on (prompt, chosen): one mean over every response token of the batch.
    total, count = 0.0, 0.0
    for p in PAIRS:
        s, n = logp(policy, p["prompt"], p["chosen"])
        total = total - s
        count += n
    sft = total / count
    grads(policy, sft, "sft", tensors)
    oracle["sft_loss"] = sft.item()
    save_file(tensors, os.path.join(a.out, "oracle.safetensors"))
    with open(os.path.join(a.out, "oracle.json"), "w") as f:
        json.dump(oracle, f, indent=2)
        f.write("\n")
    print(json.dumps(oracle, indent=2))


if __name__ == "__main__":
    main()
