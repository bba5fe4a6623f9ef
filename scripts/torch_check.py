#!/usr/bin/python3
"""Cross-check one attnbench output against PyTorch.

usage: scripts/torch_check.py DIR --problem STR [--tolerance 1e-4]

DIR is what `attnbench run --save-output DIR` wrote: the inputs (q.npy, k.npy, v.npy, weights,
lengths.npy) and the kernel's output out.npy. This script parses the problem string on its own
(the grammar of kernels/include/attnbench/problem.hpp), recomputes the forward pass in float64 from
PyTorch's own building blocks, and compares with out.npy by attnbench's metric

    max_i |out_i - ref_i| / max(|ref_i|, rms(ref))

It deliberately shares no code with the C++ reference: the point is an independent statement of the
definitions (docs/SEMANTICS.md) in the terms of the framework users know. Several torch formulations
are evaluated where they apply (explicit masked softmax; torch's scaled-dot-product attention;
torch.nn.MultiheadAttention for the full module) and out.npy must match every one of them.

Prints one line: the problem, the worst metric, which torch formulations were checked, PASS or FAIL.
Exit status: 0 pass, 1 fail, 2 bad input (one-line message on stderr naming the problem).

Needs Debian's /usr/bin/python3 with python3-torch (1.13) and python3-numpy.
"""

import argparse
import math
import os
import re
import sys

PROG = "torch_check"

# Largest size of any one dimension, and the 2^40-element limit of a case (attnbench's validate()).
MAX_DIM = 1 << 24
MAX_ELEMENTS = 1 << 40


class BadInput(Exception):
    """Anything that makes the check impossible: exit status 2."""


# --------------------------------------------------------------------------------------------------
# The problem string
# --------------------------------------------------------------------------------------------------

GRAMMAR = ("expected tokens joined by '_': b<batch> h<heads> [hk<kv_heads>] sq<seq_q> [skv<seq_kv>] "
           "d<head_dim> [dv<value_dim>] [causal|padding] [additive|multiplicative] [proj]")

# Longest prefixes first, so that "skv" is not read as "s" + "kv", "dv" not as "d" + "v", "hk" not "h".
SIZED = [("skv", "seq_kv"), ("sq", "seq_q"), ("hk", "kv_heads"), ("dv", "value_dim"),
         ("b", "batch"), ("h", "heads"), ("d", "head_dim")]


class Problem:
    def __init__(self):
        self.batch = self.heads = self.kv_heads = 1
        self.seq_q = self.seq_kv = 1
        self.head_dim = self.value_dim = 1
        self.mask = "none"
        self.score = "scaled_dot"
        self.projections = False

    @property
    def model_dim(self):
        return self.heads * self.head_dim

    @property
    def group(self):
        return self.heads // self.kv_heads


def split_tokens(text):
    """Split on '_' but keep the one value name containing it, "scaled_dot", whole."""
    parts = text.split("_")
    tokens, i = [], 0
    while i < len(parts):
        if parts[i] == "scaled" and i + 1 < len(parts) and parts[i + 1] == "dot":
            tokens.append("scaled_dot")
            i += 2
        else:
            tokens.append(parts[i])
            i += 1
    return tokens


def parse_problem(text):
    def bad(why):
        raise BadInput(f"bad problem string '{text}': {why}; {GRAMMAR}")

    if not text:
        bad("it is empty")
    p = Problem()
    seen = set()

    def once(key, token):
        if key in seen:
            bad(f"'{token}' sets {key} a second time")
        seen.add(key)

    for token in split_tokens(text):
        if not token:
            bad("empty token (doubled or trailing '_')")
        if token in ("none", "causal", "padding"):
            once("mask", token)
            p.mask = token
            continue
        if token in ("scaled_dot", "sdp", "additive", "multiplicative"):
            once("score", token)
            p.score = "scaled_dot" if token == "sdp" else token
            continue
        if token == "proj":
            once("projections", token)
            p.projections = True
            continue
        if token == "fp32":
            once("dtype", token)
            continue
        for prefix, field in SIZED:
            if len(token) <= len(prefix) or not token.startswith(prefix):
                continue
            digits = token[len(prefix):]
            if not "0" <= digits[0] <= "9":
                continue  # e.g. "dv..." is not "d" followed by letters
            if not re.fullmatch(r"[0-9]+", digits) or int(digits) >= 1 << 63:
                bad(f"'{token}': {field} must be a whole number")
            once(field, token)
            setattr(p, field, int(digits))
            break
        else:
            bad(f"unknown token '{token}'")
    for required in ("batch", "heads", "seq_q", "head_dim"):
        if required not in seen:
            bad(f"missing {required}")
    if "kv_heads" not in seen:
        p.kv_heads = p.heads
    if "seq_kv" not in seen:
        p.seq_kv = p.seq_q
    if "value_dim" not in seen:
        p.value_dim = p.head_dim
    validate(p, text)
    return p


def validate(p, text):
    def bad(why):
        raise BadInput(f"bad problem '{text}': {why}")

    for field in ("batch", "heads", "kv_heads", "seq_q", "seq_kv", "head_dim", "value_dim"):
        value = getattr(p, field)
        if value < 1:
            bad(f"{field} must be >= 1 (got {value})")
        if value > MAX_DIM:
            bad(f"{field} must be <= {MAX_DIM} (got {value})")
    if p.kv_heads > p.heads or p.heads % p.kv_heads:
        bad(f"kv_heads ({p.kv_heads}) must divide heads ({p.heads})")
    widest = max(p.head_dim, p.value_dim)
    if (p.batch * max(p.seq_q, p.seq_kv) * p.heads * widest > MAX_ELEMENTS or p.seq_q * p.seq_kv > MAX_ELEMENTS
            or p.heads * widest * p.heads * p.head_dim > MAX_ELEMENTS):
        bad("problem too large: one of its tensors would hold more than 2^40 elements")


# --------------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------------

def expected_inputs(p):
    """name -> (shape, kind) of every tensor the problem reads; kind 'f' float, 'i' integer."""
    B, Lq, Lk, H, Hk = p.batch, p.seq_q, p.seq_kv, p.heads, p.kv_heads
    d, dv, E = p.head_dim, p.value_dim, p.model_dim
    spec = {}
    if p.projections:
        spec.update(q=((B, Lq, E), "f"), k=((B, Lk, E), "f"), v=((B, Lk, E), "f"),
                    w_q=((H * d, E), "f"), b_q=((H * d,), "f"),
                    w_k=((Hk * d, E), "f"), b_k=((Hk * d,), "f"),
                    w_v=((Hk * dv, E), "f"), b_v=((Hk * dv,), "f"),
                    w_o=((E, H * dv), "f"), b_o=((E,), "f"))
    else:
        spec.update(q=((B, Lq, H, d), "f"), k=((B, Lk, Hk, d), "f"), v=((B, Lk, Hk, dv), "f"))
    if p.mask == "padding":
        spec["lengths"] = ((B,), "i")
    if p.score == "multiplicative":
        spec["w_score"] = ((H, d, d), "f")
    if p.score == "additive":
        da = d  # attnbench fixes the additive hidden width to head_dim
        spec.update(w_score_q=((H, da, d), "f"), w_score_k=((H, da, d), "f"), v_score=((H, da), "f"))
    return spec


def output_shape(p):
    if p.projections:
        return (p.batch, p.seq_q, p.model_dim)
    return (p.batch, p.seq_q, p.heads, p.value_dim)


def load_array(np, directory, name, shape, kind):
    path = os.path.join(directory, name + ".npy")
    if not os.path.isfile(path):
        raise BadInput(f"missing file {path}")
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any reader error is bad input
        raise BadInput(f"cannot read {path}: {e}") from None
    want = "a floating-point" if kind == "f" else "an integer"
    ok_kind = a.dtype.kind == "f" if kind == "f" else a.dtype.kind in "iu"
    if not ok_kind:
        raise BadInput(f"{path}: holds {a.dtype}, expected {want} array")
    if tuple(a.shape) != tuple(shape):
        raise BadInput(f"{path}: shape {list(a.shape)}, expected {list(shape)}")
    if kind == "f" and name != "out" and not np.isfinite(a).all():
        raise BadInput(f"{path}: holds NaN or infinity")
    return a


def load_all(np, directory, p):
    if not os.path.isdir(directory):
        raise BadInput(f"no such directory {directory}")
    tensors = {name: load_array(np, directory, name, shape, kind)
               for name, (shape, kind) in expected_inputs(p).items()}
    if "lengths" in tensors:
        bad = [int(x) for x in tensors["lengths"] if not 0 <= int(x) <= p.seq_kv]
        if bad:
            raise BadInput(f"{os.path.join(directory, 'lengths.npy')}: length {bad[0]} outside [0, {p.seq_kv}]")
    out = load_array(np, directory, "out", output_shape(p), "f")
    return tensors, out


# --------------------------------------------------------------------------------------------------
# The forward pass in PyTorch, float64
# --------------------------------------------------------------------------------------------------

def visibility(torch, p, lengths):
    """Boolean [B, Lq, Lk]: True where query i of batch entry b may attend to key j."""
    B, Lq, Lk = p.batch, p.seq_q, p.seq_kv
    visible = torch.ones(B, Lq, Lk, dtype=torch.bool)
    if p.mask == "causal":
        # Bottom-right aligned: j <= i + (Lk - Lq). tril with that diagonal offset is exactly it.
        visible &= torch.ones(Lq, Lk, dtype=torch.bool).tril(diagonal=Lk - Lq)
    if p.mask == "padding":
        visible &= (torch.arange(Lk)[None, :] < lengths[:, None])[:, None, :]
    return visible


def scores(torch, p, w, q, k):
    """Score tensor [B, H, Lq, Lk] from q [B, H, Lq, d] and k [B, H, Lk, d] (KV heads already repeated)."""
    d = p.head_dim
    if p.score == "scaled_dot":
        return q @ k.transpose(-1, -2) / math.sqrt(d)
    if p.score == "multiplicative":
        # (q_i^T W_h k_j) / sqrt(d): q on the left of W = w_score[h] [d, d]; broadcasts over batch.
        return (q @ w["w_score"]) @ k.transpose(-1, -2) / math.sqrt(d)
    # additive: v_h . tanh(Wq_h q_i + Wk_h k_j); Wq_h, Wk_h are [da, d], so Wq_h q_i = q_i @ Wq_h^T.
    hq = q @ w["w_score_q"].transpose(-1, -2)  # [B, H, Lq, da]
    hk = k @ w["w_score_k"].transpose(-1, -2)  # [B, H, Lk, da]
    hidden = torch.tanh(hq[:, :, :, None, :] + hk[:, :, None, :, :])  # [B, H, Lq, Lk, da]
    return torch.einsum("bhija,ha->bhij", hidden, w["v_score"])


def core_references(torch, p, w, q, k, v, visible):
    """The attention core by every torch formulation that expresses it.

    q [B, H, Lq, d], k [B, Hk, Lk, d], v [B, Hk, Lk, dv]; visible [B, Lq, Lk].
    Returns {name: o [B, Lq, H, dv]} with fully masked rows set to 0.
    """
    F = torch.nn.functional
    # Grouped-query: query head h reads KV head h // (H / Hk), i.e. each KV head repeated H/Hk times
    # in place (repeat_interleave, not repeat, which would give h % Hk).
    k = k.repeat_interleave(p.group, dim=1)
    v = v.repeat_interleave(p.group, dim=1)
    keep = visible[:, None, :, :]  # broadcast over heads
    # A fully masked row has a softmax over nothing but -inf: torch gives NaN there. attnbench defines
    # such a row as 0, so those rows are set to 0 explicitly (selected by the mask, not by isnan, so a
    # NaN anywhere else would still show up as a failure).
    empty = ~keep.any(dim=-1, keepdim=True)  # [B, 1, Lq, 1]

    refs = {}
    s = scores(torch, p, w, q, k).masked_fill(~keep, float("-inf"))
    o = F.softmax(s, dim=-1) @ v
    refs["softmax"] = o.masked_fill(empty, 0.0)

    # torch 1.13's (private) scaled-dot-product attention:
    #   _scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, need_attn_weights, is_causal)
    # returning (output, weights); its boolean attn_mask marks the positions to KEEP, and it scales by
    # 1/sqrt(query.size(-1)). Its is_causal aligns top-left, so the causal mask is passed explicitly.
    # Multiplicative scoring is the same operation on the query q W_h (still d wide).
    if p.score in ("scaled_dot", "multiplicative"):
        query = q if p.score == "scaled_dot" else q @ w["w_score"]
        if hasattr(F, "_scaled_dot_product_attention"):  # torch 1.13
            o = F._scaled_dot_product_attention(query, k, v, keep, 0.0, False, False)[0]
        else:  # torch >= 2.0: the public function, one return value, same mask convention
            o = F.scaled_dot_product_attention(query, k, v, attn_mask=keep)
        refs["sdpa"] = o.masked_fill(empty, 0.0)

    return {name: o.transpose(1, 2) for name, o in refs.items()}


def references(torch, p, t):
    """{name: reference out (float64 torch tensor, shape of out.npy)}."""
    F = torch.nn.functional
    B, Lq, Lk, H, Hk = p.batch, p.seq_q, p.seq_kv, p.heads, p.kv_heads
    d, dv, E = p.head_dim, p.value_dim, p.model_dim
    w = {name: torch.from_numpy(a).to(torch.float64) for name, a in t.items() if name != "lengths"}
    lengths = torch.from_numpy(t["lengths"]).to(torch.int64) if "lengths" in t else None
    visible = visibility(torch, p, lengths)

    if not p.projections:
        # [B, L, heads, dim] -> [B, heads, L, dim]
        core = core_references(torch, p, w, w["q"].transpose(1, 2), w["k"].transpose(1, 2),
                               w["v"].transpose(1, 2), visible)
        return core

    # Full module, torch.nn.Linear convention y = x W^T + b; head h takes columns h*d .. h*d + d - 1.
    Q = F.linear(w["q"], w["w_q"], w["b_q"]).view(B, Lq, H, d).transpose(1, 2)
    K = F.linear(w["k"], w["w_k"], w["b_k"]).view(B, Lk, Hk, d).transpose(1, 2)
    V = F.linear(w["v"], w["w_v"], w["b_v"]).view(B, Lk, Hk, dv).transpose(1, 2)
    refs = {}
    for name, o in core_references(torch, p, w, Q, K, V, visible).items():
        # o is 0 on fully masked rows, so those come out as b_o.
        refs[name] = F.linear(o.reshape(B, Lq, H * dv), w["w_o"], w["b_o"])

    if Hk == H and dv == d and p.score == "scaled_dot":
        mha = torch.nn.MultiheadAttention(E, H, bias=True, batch_first=True, dtype=torch.float64)
        mha.eval()
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.cat([w["w_q"], w["w_k"], w["w_v"]], dim=0))
            mha.in_proj_bias.copy_(torch.cat([w["b_q"], w["b_k"], w["b_v"]], dim=0))
            mha.out_proj.weight.copy_(w["w_o"])
            mha.out_proj.bias.copy_(w["b_o"])
            # nn.MultiheadAttention's boolean masks mark the positions to LEAVE OUT.
            attn_mask = None
            key_padding_mask = None
            if p.mask == "causal":
                attn_mask = torch.ones(Lq, Lk, dtype=torch.bool).tril(diagonal=Lk - Lq).logical_not()
            if p.mask == "padding":
                key_padding_mask = torch.arange(Lk)[None, :] >= lengths[:, None]
            out, _ = mha(w["q"], w["k"], w["v"], key_padding_mask=key_padding_mask, need_weights=False,
                         attn_mask=attn_mask)
        # A fully masked row is NaN from MultiheadAttention (softmax over all -inf); attnbench's module
        # gives 0 W_o^T + b_o = b_o there, so those rows (chosen by the mask, not by isnan) get b_o.
        empty = ~visible.any(dim=-1, keepdim=True)  # [B, Lq, 1]
        refs["MultiheadAttention"] = torch.where(empty, w["b_o"].expand(B, Lq, E), out)
    return refs


def metric(torch, out, ref):
    """attnbench's error: max_i |out_i - ref_i| / max(|ref_i|, rms(ref)); inf if out is not finite,
    NaN if the reference is not finite (which fails the check)."""
    out = out.to(torch.float64).flatten()
    ref = ref.flatten()
    rms = math.sqrt(float((ref * ref).mean()))
    floor = max(rms, sys.float_info.min)
    err = (out - ref).abs()
    err = torch.where(torch.isfinite(out), err, torch.full_like(err, math.inf))
    rel = err / torch.clamp(ref.abs(), min=floor)
    if not bool(torch.isfinite(ref).all()):
        return math.nan
    return float(rel.max())


# --------------------------------------------------------------------------------------------------

class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: {message} (usage: torch_check.py DIR --problem STR [--tolerance X])", file=sys.stderr)
        sys.exit(2)


def main(argv):
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="directory written by attnbench run --save-output")
    ap.add_argument("--problem", required=True, help="problem string, e.g. b2_h4_sq16_d8_causal")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest accepted metric (default 1e-4)")
    args = ap.parse_args(argv)
    try:
        if not (math.isfinite(args.tolerance) and args.tolerance > 0):
            raise BadInput(f"--tolerance must be a positive number (got {args.tolerance})")
        p = parse_problem(args.problem)
        try:
            import numpy as np
            import torch
        except ImportError as e:
            raise BadInput(f"cannot import PyTorch/NumPy ({e}); run with /usr/bin/python3") from None
        tensors, out = load_all(np, args.dir, p)
    except BadInput as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2

    torch.set_grad_enabled(False)
    refs = references(torch, p, tensors)
    out_t = torch.from_numpy(out)
    results = {name: metric(torch, out_t, ref) for name, ref in refs.items()}
    worst = max(results.values(), key=lambda m: math.inf if math.isnan(m) else m)
    passed = all(m <= args.tolerance for m in results.values())  # False for NaN
    detail = ", ".join(f"{name} {m:.3g}" for name, m in results.items())
    print(f"{args.problem}: max rel error {worst:.3g} vs torch ({detail}; tolerance {args.tolerance:g}) "
          f"{'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
