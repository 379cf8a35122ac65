#!/usr/bin/env python3
"""Writes the safetensors test fixtures with the reference implementation
(the `safetensors` package + PyTorch), and next to each file the answer our
reader must reproduce.

    python3 tools/oracle/make_safetensors_fixtures.py [OUT_DIR]
    (default OUT_DIR: tests/fixtures/safetensors)

Outputs (all small; committed):
  dtype_<DT>.safetensors        one file per dtype: a rank-2 tensor, a scalar
                                (rank 0) and an empty tensor of that dtype
  dtype_<DT>.expected.json      {"inspect": <what `aligners inspect --json`
                                prints>, "values": {name: [float32 values]}}
                                values are torch's own `.float()`; non-finite
                                values are the strings "nan", "inf", "-inf"
  all_dtypes.safetensors (+ .expected.json)  every dtype in one file, with
                                non-ASCII metadata and tensor names
  empty.safetensors (+ .expected.json)       no tensors at all
  conversions.safetensors       float32 inputs `src` (random bit patterns,
                                exact ties, subnormals, specials) and torch's
                                casts of them: `<fmt>_bits` (the narrow value's
                                raw bits as U8/U16) and `<fmt>_f32` (widened
                                back) for fmt in bf16, f16, f8e4m3, f8e5m2
  sharded/                      an HF-style sharded checkpoint: config.json,
                                model.safetensors.index.json, two shards, and
                                sharded.expected.json (inspect output for the
                                directory)
This script is a fixture generator only; nothing in the build or tests runs it.
"""
import json
import math
import os
import subprocess
import sys


def ensure(pkgs):
    try:
        import numpy, safetensors, torch  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *pkgs])


ensure(["numpy", "safetensors", "torch"])
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "safetensors")
os.makedirs(OUT, exist_ok=True)

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
    "U16": torch.uint16, "U32": torch.uint32, "U64": torch.uint64,
}
INT_RANGE = {
    "I64": (-(2**62), 2**62), "I32": (-(2**31), 2**31 - 1), "I16": (-32768, 32767), "I8": (-128, 127),
    "U8": (0, 255), "U16": (0, 65535), "U32": (0, 2**32 - 1), "U64": (0, 2**63 - 1), "BOOL": (0, 1),
}
rng = np.random.default_rng(1234)


def sample(dt, shape):
    n = int(np.prod(shape)) if shape else 1
    if dt in INT_RANGE:
        lo, hi = INT_RANGE[dt]
        vals = [lo, hi] + [int(v) for v in rng.integers(lo, hi, size=max(n - 2, 0), endpoint=True, dtype=np.int64 if lo < 0 or hi < 2**63 else np.uint64)]
        vals = vals[:n]
        if dt == "BOOL":
            return torch.tensor([bool(v) for v in vals], dtype=torch.bool).reshape(shape)
        if dt in ("U16", "U32", "U64"):  # torch lacks most ops on these; build through int64
            return torch.tensor(vals, dtype=torch.int64).to(DTYPES[dt]).reshape(shape)
        return torch.tensor(vals, dtype=DTYPES[dt]).reshape(shape)
    vals = (rng.standard_normal(n) * 3).astype(np.float32)
    t = torch.from_numpy(vals).reshape(shape).to(DTYPES[dt])
    if n >= 3 and dt != "F8_E4M3":  # e4m3fn has no inf
        flat = t.reshape(-1)
        flat[0], flat[1], flat[2] = float("inf"), float("-inf"), float("nan")
    elif n >= 3:
        t.reshape(-1)[0] = float("nan")
    return t


def f32_list(t):
    out = []
    for v in t.to(torch.float32).reshape(-1).tolist():
        if math.isnan(v):
            out.append("nan")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return out


def inspect_json(tensors, metadata):
    return {
        "tensors": [{"name": k, "dtype": dt, "shape": list(t.shape)} for k, (dt, t) in sorted(tensors.items())],
        "metadata": dict(sorted((metadata or {}).items())),
    }


def emit(name, tensors, metadata=None):
    """tensors: {name: (dtype name, torch tensor)}"""
    save_file({k: t for k, (_, t) in tensors.items()}, os.path.join(OUT, name + ".safetensors"), metadata=metadata)
    expected = {
        "inspect": inspect_json(tensors, metadata),
        "values": {k: f32_list(t) for k, (_, t) in sorted(tensors.items())},
    }
    with open(os.path.join(OUT, name + ".expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")


# ---- one file per dtype, and all dtypes together -----------------------------
for dt in DTYPES:
    emit("dtype_" + dt, {
        "weight": (dt, sample(dt, [3, 4])),
        "scalar": (dt, sample(dt, [])),
        "empty": (dt, torch.zeros([2, 0, 3], dtype=DTYPES[dt])),
    }, metadata={"format": "pt"})

emit("all_dtypes", {f"layer.{i}.{dt.lower()}": (dt, sample(dt, [2, 3])) for i, dt in enumerate(DTYPES)} |
     {"ünïcode.名前": ("F32", sample("F32", [5]))},
     metadata={"format": "pt", "note": "ünïcode ✓", "empty": ""})
emit("empty", {}, metadata=None)

# ---- conversions ----------------------------------------------------------------
def ties(dt, count):
    """float32 values exactly halfway between adjacent values of a narrow format, and +-1 ulp around them."""
    nbits = torch.finfo(dt).bits
    code_dtype = torch.uint8 if nbits == 8 else torch.int16
    raw = torch.from_numpy(rng.integers(0, 2 ** (nbits - 1) - 1, size=count))  # positive codes, not the top one
    av = raw.to(code_dtype).view(dt).to(torch.float64)
    bv = (raw + 1).to(code_dtype).view(dt).to(torch.float64)
    ok = torch.isfinite(av) & torch.isfinite(bv)
    mid = ((av + bv) / 2)[ok].to(torch.float32)  # exact: float32 has more mantissa bits
    up = torch.from_numpy(np.nextafter(mid.numpy(), np.float32(np.inf)))
    down = torch.from_numpy(np.nextafter(mid.numpy(), np.float32(-np.inf)))
    both = torch.cat([mid, up, down])
    return torch.cat([both, -both])


random_bits = torch.from_numpy(rng.integers(0, 2**32, size=600, dtype=np.uint64).astype(np.uint32).view(np.int32)).view(torch.float32)
scaled = torch.from_numpy((rng.standard_normal(600) * np.exp(rng.uniform(-30, 15, size=600))).astype(np.float32))
specials = torch.tensor([0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), 448.0, 464.0, 480.0,
                         500.0, 57344.0, 61440.0, 65504.0, 65519.99, 65520.0, 1e-45, 1.17549435e-38, 5.96e-8,
                         2.98e-8, 2.0**-9, 2.0**-10, 2.0**-16, 2.0**-17, 3.4028235e38], dtype=torch.float32)
src = torch.cat([specials, random_bits, scaled, ties(torch.bfloat16, 100), ties(torch.float16, 100),
                 ties(torch.float8_e4m3fn, 40), ties(torch.float8_e5m2, 40)])
conv = {"src": src}
for fmt, dt, bits in [("bf16", torch.bfloat16, torch.int16), ("f16", torch.float16, torch.int16),
                      ("f8e4m3", torch.float8_e4m3fn, torch.uint8), ("f8e5m2", torch.float8_e5m2, torch.uint8)]:
    narrow = src.to(dt)
    conv[fmt + "_bits"] = narrow.view(torch.uint8 if bits == torch.uint8 else torch.uint16)
    conv[fmt + "_f32"] = narrow.to(torch.float32)
    # Every narrow code widened, to check widening exhaustively for the 8-bit formats.
    if bits == torch.uint8:
        codes = torch.arange(256, dtype=torch.int64).to(torch.uint8)
        conv[fmt + "_all_codes_f32"] = codes.view(dt).to(torch.float32)
save_file(conv, os.path.join(OUT, "conversions.safetensors"), metadata={"generator": "torch " + torch.__version__})

# ---- a sharded checkpoint ------------------------------------------------------
shard_dir = os.path.join(OUT, "sharded")
os.makedirs(shard_dir, exist_ok=True)
shard1 = {"model.embed.weight": sample("F32", [4, 3]), "model.layers.0.w": sample("BF16", [3, 3])}
shard2 = {"model.layers.1.w": sample("F16", [3, 3]), "lm_head.weight": sample("F32", [4, 3])}
save_file(shard1, os.path.join(shard_dir, "model-00001-of-00002.safetensors"), metadata={"format": "pt"})
save_file(shard2, os.path.join(shard_dir, "model-00002-of-00002.safetensors"), metadata={"format": "pt"})
weight_map = {k: "model-00001-of-00002.safetensors" for k in shard1} | {k: "model-00002-of-00002.safetensors" for k in shard2}
total = sum(t.numel() * t.element_size() for t in list(shard1.values()) + list(shard2.values()))
with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 3, "vocab_size": 4,
          "num_hidden_layers": 2, "rms_norm_eps": 1e-06, "tie_word_embeddings": False}
with open(os.path.join(shard_dir, "config.json"), "w") as f:
    json.dump(config, f, indent=2)
all_t = {k: (dt, t) for k, t in shard1.items() for dt in [{torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}[t.dtype]]}
all_t |= {k: (dt, t) for k, t in shard2.items() for dt in [{torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}[t.dtype]]}
expected = inspect_json(all_t, {"format": "pt"}) | {"config": config}
with open(os.path.join(OUT, "sharded.expected.json"), "w") as f:
    json.dump({"inspect": expected, "values": {k: f32_list(t) for k, (_, t) in sorted(all_t.items())}}, f, indent=1)
    f.write("\n")
print("wrote fixtures to", os.path.abspath(OUT))
