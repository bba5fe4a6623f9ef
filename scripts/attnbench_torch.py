"""attnbench's semantics in PyTorch terms, shared by scripts/torch_check.py and
scripts/pytorch_reference.py.

- the problem string (the grammar of kernels/include/attnbench/problem.hpp), parsed and printed the
  way attnbench does, and the record's `problem` object;
- the tensors of a problem (names, shapes, dtypes of docs/SEMANTICS.md section 2) and reading them
  from a directory written by `attnbench run --save-output`;
- the forward pass written with torch's own building blocks (explicit masked softmax, torch's
  scaled-dot-product attention, torch.nn.MultiheadAttention). The functions are dtype-agnostic:
  the cross-checks call them in float64, pytorch_reference.py times the same code in float32;
- attnbench's error metric, and the "check a saved output" command both scripts expose.

It deliberately shares no code with the C++ reference: the point is an independent statement of the
definitions (docs/SEMANTICS.md) in the terms of the framework users know.

Needs Debian's /usr/bin/python3 with python3-torch (1.13) and python3-numpy; torch and numpy are
passed in as arguments (imported by the caller), so that a missing torch is reported as bad input
rather than as an ImportError at import time.
"""

import math
import os
import re
import sys

# Largest size of any one dimension, and the 2^40-element limit of a case (attnbench's validate()).
MAX_DIM = 1 << 24
MAX_ELEMENTS = 1 << 40


class BadInput(Exception):
    """Anything that makes the work impossible because of what the user gave: exit status 2."""


# --------------------------------------------------------------------------------------------------
# The problem string
# --------------------------------------------------------------------------------------------------

GRAMMAR = ("expected tokens joined by '_': b<batch> h<heads> [hk<kv_heads>] sq<seq_q> [skv<seq_kv>] "
           "d<head_dim> [dv<value_dim>] [causal|padding] [additive|multiplicative] [proj] "
           "[ks<kernel_size>] [dil<dilation>] [ly<layers>] [bidir]")

# Longest prefixes first, so that "skv" is not read as "s" + "kv", "dv" not as "d" + "v", "hk" not "h".
SIZED = [("skv", "seq_kv"), ("dil", "dilation"), ("sq", "seq_q"), ("hk", "kv_heads"), ("dv", "value_dim"),
         ("ks", "kernel_size"), ("ly", "layers"), ("b", "batch"), ("h", "heads"), ("d", "head_dim")]
MAX_CONV_LAYERS = 24  # attnbench's kMaxConvLayers

# The operators (kernels/include/attnbench/op.hpp) and the gate blocks of the recurrent ones.
OPS = ("mha", "conv1d", "lstm", "gru", "elman")
GATES = {"lstm": 4, "gru": 3, "elman": 1}


class Problem:
    def __init__(self):
        self.batch = self.heads = self.kv_heads = 1
        self.seq_q = self.seq_kv = 1
        self.head_dim = self.value_dim = 1
        self.mask = "none"
        self.score = "scaled_dot"
        self.projections = False
        self.dtype = "fp32"
        # The CNN/RNN baselines' fields (docs/SEMANTICS.md section 8).
        self.kernel_size = 3
        self.dilation = 1
        self.layers = 1
        self.bidirectional = False

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    @property
    def model_dim(self):
        return self.heads * self.head_dim

    @property
    def group(self):
        return self.heads // self.kv_heads

    def str(self):
        """The canonical string, exactly as attnbench prints it (Problem::str): every size but the
        optional kv_heads/value_dim when they equal their defaults; seq_kv always; fp32 omitted."""
        s = f"b{self.batch}_h{self.heads}"
        if self.kv_heads != self.heads:
            s += f"_hk{self.kv_heads}"
        s += f"_sq{self.seq_q}_skv{self.seq_kv}_d{self.head_dim}"
        if self.value_dim != self.head_dim:
            s += f"_dv{self.value_dim}"
        if self.mask != "none":
            s += "_" + self.mask
        if self.score != "scaled_dot":
            s += "_" + self.score
        if self.projections:
            s += "_proj"
        if self.kernel_size != 3:
            s += f"_ks{self.kernel_size}"
        if self.dilation != 1:
            s += f"_dil{self.dilation}"
        if self.layers != 1:
            s += f"_ly{self.layers}"
        if self.bidirectional:
            s += "_bidir"
        return s

    def to_json(self):
        """The record's `problem` object (harness/problem_json.cpp), same keys and types."""
        return {"batch": self.batch, "heads": self.heads, "kv_heads": self.kv_heads, "seq_q": self.seq_q,
                "seq_kv": self.seq_kv, "head_dim": self.head_dim, "value_dim": self.value_dim,
                "mask": self.mask, "score": self.score, "projections": self.projections, "dtype": self.dtype,
                "kernel_size": self.kernel_size, "dilation": self.dilation, "layers": self.layers,
                "bidirectional": self.bidirectional}


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
        if token == "bidir":
            once("bidirectional", token)
            p.bidirectional = True
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

    for field in ("batch", "heads", "kv_heads", "seq_q", "seq_kv", "head_dim", "value_dim", "kernel_size",
                  "dilation"):
        value = getattr(p, field)
        if value < 1:
            bad(f"{field} must be >= 1 (got {value})")
        if value > MAX_DIM:
            bad(f"{field} must be <= {MAX_DIM} (got {value})")
    if not 1 <= p.layers <= MAX_CONV_LAYERS:
        bad(f"layers must be in [1, {MAX_CONV_LAYERS}] (got {p.layers})")
    if p.dilation * (1 << (p.layers - 1)) * p.kernel_size > MAX_DIM:
        bad(f"dilation * 2^(layers-1) * kernel_size must be <= {MAX_DIM}")
    if p.kv_heads > p.heads or p.heads % p.kv_heads:
        bad(f"kv_heads ({p.kv_heads}) must divide heads ({p.heads})")
    widest = max(p.head_dim, p.value_dim)
    if (p.batch * max(p.seq_q, p.seq_kv) * p.heads * widest > MAX_ELEMENTS or p.seq_q * p.seq_kv > MAX_ELEMENTS
            or p.heads * widest * p.heads * p.head_dim > MAX_ELEMENTS):
        bad("problem too large: one of its tensors would hold more than 2^40 elements")


# --------------------------------------------------------------------------------------------------
# The tensors and the files
# --------------------------------------------------------------------------------------------------

def op_refusal(op, p):
    """None if `p` means something for the operator, else why not (attnbench's op_refusal, op.cpp)."""
    if op == "mha":
        for field, option in (("kernel_size", "--kernel-size"), ("dilation", "--dilation"), ("layers", "--layers")):
            if getattr(p, field) != Problem().__dict__[field]:
                return f"{field} ({option}) applies to conv1d only, not attention"
        return "bidirectional applies to RNNs only, not attention" if p.bidirectional else None
    if p.seq_kv != p.seq_q:
        return f"{op} has one sequence: seq_kv must equal seq_q"
    if p.kv_heads != p.heads:
        return f"{op} has no heads to group: kv_heads must equal heads"
    if p.value_dim != p.head_dim:
        return f"{op} has one width, model_dim: value_dim must equal head_dim"
    if p.score != "scaled_dot":
        return f"score applies to attention only, not {op}"
    if p.mask == "padding":
        return f"a padding mask is not defined for {op} (use none or causal)"
    if op == "conv1d":
        if p.bidirectional:
            return "bidirectional applies to RNNs only, not conv1d"
        if p.kernel_size > p.seq_q:
            return f"kernel_size {p.kernel_size} is longer than the sequence ({p.seq_q})"
        return None
    if p.kernel_size != 3 or p.dilation != 1:
        return f"kernel_size and dilation apply to conv1d only, not {op}"
    if p.layers != 1:
        return f"stacked {op} layers are not implemented; measure one layer"
    if p.bidirectional and p.mask == "causal":
        return f"a bidirectional {op} reads the future: it cannot be causal"
    return None


def expected_inputs(p, op="mha"):
    """name -> (shape, kind) of every tensor the operator reads on `p`; kind 'f' float, 'i' integer."""
    if op != "mha":
        return baseline_inputs(p, op)
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


def baseline_inputs(p, op):
    """The CNN/RNN baselines' tensors (docs/SEMANTICS.md section 8), in attnbench's order."""
    B, L, E = p.batch, p.seq_q, p.model_dim
    if op == "conv1d":
        return {"x": ((B, L, E), "f"), "w_conv": ((p.layers, E, E, p.kernel_size), "f"), "b_conv": ((p.layers, E), "f")}
    dirs, G = p.directions, GATES[op]
    spec = {"x": ((B, L, E), "f"), "h0": ((dirs, B, E), "f")}
    if op == "lstm":
        spec["c0"] = ((dirs, B, E), "f")
    spec.update(w_ih=((dirs, G * E, E), "f"), w_hh=((dirs, G * E, E), "f"), b_ih=((dirs, G * E), "f"),
                b_hh=((dirs, G * E), "f"))
    return spec


# The activations (and the mask's lengths) a directory must hold; the other inputs are weights.
ACTIVATIONS = ("q", "k", "v", "lengths", "x", "h0", "c0")


def output_shape(p, op="mha"):
    if op != "mha":
        return (p.batch, p.seq_q, (p.directions if op in GATES else 1) * p.model_dim)
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


def load_inputs(np, directory, p, weights_optional=False, op="mha"):
    """{name: array} of the problem's inputs in `directory`. With weights_optional, weight files that
    are missing are left out of the result (the caller generates them); the activations q, k, v and
    lengths.npy are always required."""
    if not os.path.isdir(directory):
        raise BadInput(f"no such directory {directory}")
    tensors = {}
    for name, (shape, kind) in expected_inputs(p, op).items():
        if (weights_optional and name not in ACTIVATIONS
                and not os.path.exists(os.path.join(directory, name + ".npy"))):
            continue
        tensors[name] = load_array(np, directory, name, shape, kind)
    if "lengths" in tensors:
        bad = [int(x) for x in tensors["lengths"] if not 0 <= int(x) <= p.seq_kv]
        if bad:
            raise BadInput(f"{os.path.join(directory, 'lengths.npy')}: length {bad[0]} outside [0, {p.seq_kv}]")
    return tensors


def load_all(np, directory, p, op="mha"):
    """The inputs and out.npy of a directory written by `attnbench run --save-output`."""
    tensors = load_inputs(np, directory, p, op=op)
    out = load_array(np, directory, "out", output_shape(p, op), "f")
    return tensors, out


# --------------------------------------------------------------------------------------------------
# The forward pass in PyTorch (any floating dtype; the cross-checks use float64)
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


def keep_mask(torch, p, lengths):
    """The smallest boolean mask, broadcastable to the scores [B, H, Lq, Lk], that is True where a key
    is visible (the attn_mask convention of scaled_dot_product_attention); None without a mask.
    Causal: [Lq, Lk]; padding: [B, 1, 1, Lk]."""
    Lq, Lk = p.seq_q, p.seq_kv
    if p.mask == "causal":
        return torch.ones(Lq, Lk, dtype=torch.bool).tril(diagonal=Lk - Lq)
    if p.mask == "padding":
        return (torch.arange(Lk)[None, :] < lengths[:, None])[:, None, None, :]
    return None


def empty_rows(torch, p, lengths):
    """Boolean [B, 1, Lq, 1] marking the rows with no visible key (None when there is none): a causal
    mask with Lq > Lk (the first Lq - Lk rows) or a padding length of 0."""
    if p.mask == "causal" and p.seq_q > p.seq_kv:
        e = torch.zeros(p.batch, 1, p.seq_q, 1, dtype=torch.bool)
        e[:, :, :p.seq_q - p.seq_kv, :] = True
        return e
    if p.mask == "padding" and bool((lengths == 0).any()):
        return (lengths == 0)[:, None, None, None].expand(p.batch, 1, p.seq_q, 1).clone()
    return None


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


def repeat_kv(p, k, v):
    """Grouped-query: query head h reads KV head h // (H / Hk), i.e. each KV head repeated H/Hk times
    in place (repeat_interleave, not repeat, which would give h % Hk). k, v are [B, Hk, Lk, .]."""
    if p.group == 1:
        return k, v
    return k.repeat_interleave(p.group, dim=1), v.repeat_interleave(p.group, dim=1)


def core_softmax(torch, p, w, q, k, v, keep, empty):
    """The core written out: softmax(scores, masked) @ v. q [B, H, Lq, d], k/v [B, H, Lk, .] (KV heads
    repeated); keep broadcastable to [B, H, Lq, Lk] or None; empty [B, 1, Lq, 1] or None.
    Returns [B, H, Lq, dv] with fully masked rows 0."""
    s = scores(torch, p, w, q, k)
    if keep is not None:
        s = s.masked_fill(~keep, float("-inf"))
    o = torch.softmax(s, dim=-1) @ v
    # A fully masked row has a softmax over nothing but -inf: torch gives NaN there. attnbench defines
    # such a row as 0, so those rows are set to 0 explicitly (selected by the mask, not by isnan, so a
    # NaN anywhere else would still show up as a failure).
    return o if empty is None else o.masked_fill(empty, 0.0)


def has_sdpa_form(p):
    """Whether torch's scaled-dot-product attention expresses the problem's score."""
    return p.score in ("scaled_dot", "multiplicative")


def core_sdpa(torch, p, w, q, k, v, keep, empty):
    """The core by torch's scaled-dot-product attention, same arguments and result as core_softmax.

    torch 1.13's (private) _scaled_dot_product_attention(query, key, value, attn_mask, dropout_p,
    need_attn_weights, is_causal) returns (output, weights); its boolean attn_mask marks the positions
    to KEEP, and it scales by 1/sqrt(query.size(-1)). Its is_causal aligns top-left, so the causal mask
    is passed explicitly. Multiplicative scoring is the same operation on the query q W_h (still d wide).
    """
    F = torch.nn.functional
    query = q if p.score == "scaled_dot" else q @ w["w_score"]
    if hasattr(F, "_scaled_dot_product_attention"):  # torch 1.13
        o = F._scaled_dot_product_attention(query, k, v, keep, 0.0, False, False)[0]
    else:  # torch >= 2.0: the public function, one return value, same mask convention
        o = F.scaled_dot_product_attention(query, k, v, attn_mask=keep)
    return o if empty is None else o.masked_fill(empty, 0.0)


def mha_expresses(p):
    """None if torch.nn.MultiheadAttention computes the problem's full module, else why not."""
    if not p.projections:
        return "nn.MultiheadAttention is the full module (Q/K/V/O projections) and the problem has no _proj"
    if p.kv_heads != p.heads:
        return f"nn.MultiheadAttention has no grouped-query heads (kv_heads {p.kv_heads} != heads {p.heads})"
    if p.value_dim != p.head_dim:
        return (f"nn.MultiheadAttention needs value_dim == head_dim (got {p.value_dim} != {p.head_dim}); "
                "its vdim changes the input width, not the head width")
    if p.score != "scaled_dot":
        return f"nn.MultiheadAttention computes scaled dot-product scores only, not {p.score}"
    return None


def make_mha(torch, p, w, dtype):
    """nn.MultiheadAttention(E, H, batch_first=True) in eval mode holding the problem's weights
    (w: name -> tensor, any dtype) in `dtype`. Needs mha_expresses(p) to be None."""
    mha = torch.nn.MultiheadAttention(p.model_dim, p.heads, bias=True, batch_first=True, dtype=dtype)
    mha.eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([w["w_q"], w["w_k"], w["w_v"]], dim=0))
        mha.in_proj_bias.copy_(torch.cat([w["b_q"], w["b_k"], w["b_v"]], dim=0))
        mha.out_proj.weight.copy_(w["w_o"])
        mha.out_proj.bias.copy_(w["b_o"])
    return mha


def mha_masks(torch, p, lengths):
    """(attn_mask, key_padding_mask) for nn.MultiheadAttention, whose boolean masks mark the positions
    to LEAVE OUT (the opposite of scaled_dot_product_attention's)."""
    Lq, Lk = p.seq_q, p.seq_kv
    attn_mask = key_padding_mask = None
    if p.mask == "causal":
        attn_mask = torch.ones(Lq, Lk, dtype=torch.bool).tril(diagonal=Lk - Lq).logical_not()
    if p.mask == "padding":
        key_padding_mask = torch.arange(Lk)[None, :] >= lengths[:, None]
    return attn_mask, key_padding_mask


def core_references(torch, p, w, q, k, v, visible):
    """The attention core by every torch formulation that expresses it.

    q [B, H, Lq, d], k [B, Hk, Lk, d], v [B, Hk, Lk, dv]; visible [B, Lq, Lk].
    Returns {name: o [B, Lq, H, dv]} with fully masked rows set to 0.
    """
    k, v = repeat_kv(p, k, v)
    keep = visible[:, None, :, :]  # broadcast over heads
    empty = ~keep.any(dim=-1, keepdim=True)  # [B, 1, Lq, 1]
    refs = {"softmax": core_softmax(torch, p, w, q, k, v, keep, empty)}
    if has_sdpa_form(p):
        refs["sdpa"] = core_sdpa(torch, p, w, q, k, v, keep, empty)
    return {name: o.transpose(1, 2) for name, o in refs.items()}


# --------------------------------------------------------------------------------------------------
# The CNN/RNN baselines as torch modules: torch.nn.Conv1d (a stack, ReLU between layers), nn.LSTM,
# nn.GRU, nn.RNN (tanh), holding attnbench's weights. docs/SEMANTICS.md section 8 maps the tensors.
# --------------------------------------------------------------------------------------------------

TORCH_MODULE = {"conv1d": "Conv1d", "lstm": "LSTM", "gru": "GRU", "elman": "RNN"}


def make_baseline(torch, op, p, w, dtype):
    """A callable x [B, L, E] -> out [B, L, dirs*E] (the states h0/c0 from w) of the torch module for `op`
    with the weights w (name -> tensor), in `dtype`. Built once (untimed); the call is the timed part."""
    nn, F = torch.nn, torch.nn.functional
    E = p.model_dim
    if op == "conv1d":
        convs = []
        for layer in range(p.layers):
            dilation = p.dilation << layer
            # 'same' is torch's own padding='same' (an even k puts the extra zero on the right); causal pads
            # dilation*(k-1) zeros on the left, explicitly.
            conv = nn.Conv1d(E, E, p.kernel_size, dilation=dilation, bias=True, dtype=dtype,
                             padding=0 if p.mask == "causal" else "same")
            conv.weight.copy_(w["w_conv"][layer])
            conv.bias.copy_(w["b_conv"][layer])
            convs.append((conv, dilation * (p.kernel_size - 1) if p.mask == "causal" else 0))

        def conv_run(x):
            y = x.transpose(1, 2)  # [B, E, L], torch's layout
            for i, (conv, left) in enumerate(convs):
                y = conv(F.pad(y, (left, 0)) if left else y)
                if i + 1 < len(convs):
                    y = torch.relu(y)
            return y.transpose(1, 2).contiguous()
        return conv_run
    kwargs = {"nonlinearity": "tanh"} if op == "elman" else {}
    module = getattr(nn, TORCH_MODULE[op])(E, E, batch_first=True, bidirectional=p.bidirectional, dtype=dtype,
                                           **kwargs)
    for d in range(p.directions):
        suffix = "_reverse" if d else ""
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            kind, part = name.split("_")
            getattr(module, f"{'weight' if kind == 'w' else 'bias'}_{part}_l0{suffix}").copy_(w[name][d])
    h0 = w["h0"]
    state = (h0, w["c0"]) if op == "lstm" else h0

    def rnn_run(x):
        return module(x, state)[0]
    return rnn_run


def baseline_references(torch, op, p, t):
    """{"torch.nn.<Module>": the module's output in float64} on the inputs t (name -> array)."""
    w = {name: torch.from_numpy(a).to(torch.float64) for name, a in t.items()}
    with torch.no_grad():
        return {f"torch.nn.{TORCH_MODULE[op]}": make_baseline(torch, op, p, w, torch.float64)(w["x"])}


def references(torch, p, t, op="mha"):
    """{name: reference out (float64 torch tensor, shape of out.npy)} from the inputs t (name -> array)."""
    if op != "mha":
        return baseline_references(torch, op, p, t)
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

    if mha_expresses(p) is None:
        mha = make_mha(torch, p, w, torch.float64)
        attn_mask, key_padding_mask = mha_masks(torch, p, lengths)
        with torch.no_grad():
            out, _ = mha(w["q"], w["k"], w["v"], key_padding_mask=key_padding_mask, need_weights=False,
                         attn_mask=attn_mask)
        # A fully masked row is NaN from MultiheadAttention (softmax over all -inf); attnbench's module
        # gives 0 W_o^T + b_o = b_o there, so those rows (chosen by the mask, not by isnan) get b_o.
        empty = ~visible.any(dim=-1, keepdim=True)  # [B, Lq, 1]
        refs["MultiheadAttention"] = torch.where(empty, w["b_o"].expand(B, Lq, E), out)
    return refs


# --------------------------------------------------------------------------------------------------
# The metric
# --------------------------------------------------------------------------------------------------

def errors(torch, out, ref):
    """(max_rel_error, max_abs_error) of out against ref by attnbench's metric (docs/SEMANTICS.md 6):
    max_i |out_i - ref_i| / max(|ref_i|, rms(ref)), and max_i |out_i - ref_i|. A non-finite out element
    gives inf; a non-finite reference gives NaN (which fails every check)."""
    out = out.to(torch.float64).flatten()
    ref = ref.flatten()
    if not bool(torch.isfinite(ref).all()):
        return math.nan, math.nan
    if out.numel() == 0:
        return 0.0, 0.0
    rms = math.sqrt(float((ref * ref).mean()))
    floor = max(rms, sys.float_info.min)
    err = (out - ref).abs()
    err = torch.where(torch.isfinite(out), err, torch.full_like(err, math.inf))
    rel = err / torch.clamp(ref.abs(), min=floor)
    return float(rel.max()), float(err.max())


def metric(torch, out, ref):
    """attnbench's error: max_i |out_i - ref_i| / max(|ref_i|, rms(ref)); inf if out is not finite,
    NaN if the reference is not finite (which fails the check)."""
    return errors(torch, out, ref)[0]


def worst(values):
    """The largest of some metrics, NaN counting as the worst."""
    return max(values, key=lambda m: math.inf if math.isnan(m) else m)


# --------------------------------------------------------------------------------------------------
# Checking a saved output (torch_check.py DIR, pytorch_reference.py validate DIR)
# --------------------------------------------------------------------------------------------------

def import_torch():
    """(numpy, torch), or BadInput naming the fix."""
    try:
        import numpy as np
        import torch
    except ImportError as e:
        raise BadInput(f"cannot import PyTorch/NumPy ({e}); run with /usr/bin/python3 "
                       "(Debian's python3-torch: scripts/install-deps.sh --python)") from None
    return np, torch


def check_saved(prog, directory, problem_text, tolerance, op="mha"):
    """Recompute the saved case of operator `op` in float64 by every torch formulation and compare out.npy
    with each.
    Prints one line (problem, worst metric, formulations, PASS/FAIL); bad input is one line on stderr.
    Returns the exit status: 0 pass, 1 fail, 2 bad input."""
    try:
        if not (math.isfinite(tolerance) and tolerance > 0):
            raise BadInput(f"--tolerance must be a positive number (got {tolerance})")
        if op not in OPS:
            raise BadInput(f"unknown operator '{op}' (valid: {'|'.join(OPS)})")
        p = parse_problem(problem_text)
        why = op_refusal(op, p)
        if why is not None:
            raise BadInput(f"{problem_text} is not a {op} problem: {why}")
        np, torch = import_torch()
        tensors, out = load_all(np, directory, p, op)
    except BadInput as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2

    torch.set_grad_enabled(False)
    refs = references(torch, p, tensors, op)
    out_t = torch.from_numpy(out)
    results = {name: metric(torch, out_t, ref) for name, ref in refs.items()}
    bad = worst(results.values())
    passed = all(m <= tolerance for m in results.values())  # False for NaN
    detail = ", ".join(f"{name} {m:.3g}" for name, m in results.items())
    print(f"{problem_text}: max rel error {bad:.3g} vs torch ({detail}; tolerance {tolerance:g}) "
          f"{'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1
