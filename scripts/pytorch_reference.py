#!/usr/bin/python3
"""PyTorch on attnbench problems: framework baselines in attnbench's results schema, and validation
of attnbench outputs.

usage:
  scripts/pytorch_reference.py run --problem STR[,STR...] [--kernel torch.sdpa,torch.mha,torch.naive|all]
                                   [--threads T] [--warmup 1 --min-reps 6 --min-time 0.1 --ci-target 0.02 ...]
                                   [--check] [--out FILE.jsonl] [--inputs DIR] [--seed 42]
  scripts/pytorch_reference.py validate DIR --problem STR [--op mha|conv1d|lstm|gru|elman] [--tolerance 1e-4]

`run` measures PyTorch's own implementations of attnbench problems and appends one record per
(problem, kernel) to --out in the schema of docs/RESULTS.md (schema_version 1), so that reports show
the framework users know beside attnbench's kernels. Kernels:

  torch.sdpa   the attention core by torch.nn.functional._scaled_dot_product_attention (torch 1.13;
               scaled_dot_product_attention in torch >= 2) with an explicit boolean mask: its
               is_causal aligns top-left, attnbench's causal mask bottom-right. Scores scaled_dot and
               multiplicative (SDPA on the query q W_h); additive scores have no SDPA form.
  torch.naive  the attention core written with torch ops: softmax(mask(Q K^T / sqrt(d))) V (every score).
  torch.mha    the full module (problems with _proj): torch.nn.MultiheadAttention(E, H,
               batch_first=True), eval mode, need_weights=False. It cannot express grouped-query
               heads, value_dim != head_dim or other scores than scaled_dot.
  torch.conv1d torch.nn.Conv1d(E, E, k) per layer (padding='same', or causal zeros on the left; ReLU
               between layers), input transposed to torch's [B, E, L] and back (timed).
  torch.lstm   torch.nn.LSTM(E, E, batch_first=True[, bidirectional]) from h0, c0.
  torch.gru    torch.nn.GRU, likewise from h0.
  torch.rnn    torch.nn.RNN (tanh), likewise: the baselines of attnbench's cnn.conv1d.*, rnn.lstm.*,
               rnn.gru.*, rnn.elman.* with the same tensors (docs/SEMANTICS.md section 8).
What a kernel cannot express is recorded as status "skipped" with the reason. Every kernel takes the
tensors in attnbench's boundary layout ([B, L, H, d], docs/SEMANTICS.md section 2) and returns its
output in that layout; the transposes, the grouped-query repeat of K/V and fixing fully masked rows
(NaN in torch, 0 or b_o in attnbench) are part of the timed call. Module and masks are built in the
untimed set-up (setup_s).

Inputs are random unless --inputs DIR names a directory written by `attnbench run --save-output`
(q.npy, k.npy, v.npy, lengths.npy, weights; missing weights are generated). The random inputs have
attnbench's distributions (docs/SEMANTICS.md section 5) but come from torch.Generator streams seeded
with seed XOR crc32(name), so their VALUES DIFFER from attnbench's generator for the same --seed:
fine for timing; to compare outputs with attnbench use --inputs. --check compares each kernel's
float32 output with float64 recomputations by every torch formulation that applies (attnbench's
metric, docs/SEMANTICS.md section 6; tolerance 1e-4); a case that fails is not timed.

Timing follows `attnbench run` (harness/stopping_rule.hpp): warm-up (at least --warmup calls and
50 ms), then timed calls (time.perf_counter_ns) until --min-reps and --min-time are reached and the
median's 95% interval is within --ci-target (or --max-reps, or the --max-time budget; the record's
time.stop and time.target_met say which; below 64 samples the interval is tested after every sample,
beyond that after every ~6% more, to keep the exact binomial ranks affordable in Python);
median, mean, sample stddev, min, max and the distribution-free 95% confidence interval
of the median from order statistics (exact binomial; [min, max] with its achieved confidence below 6
repetitions). Work, bytes and tokens are attnbench's cost model (docs/SEMANTICS.md section 7). Threads:
torch.set_num_threads(T) (and OpenBLAS's pool, when loaded, set to T); default all logical CPUs.

`validate` is scripts/torch_check.py: recompute a saved case in float64 and compare out.npy; with --op
(conv1d, lstm, gru, elman) the saved case is a baseline's, recomputed by its torch module in float64.

Exit status: 0 ok, 1 a check failed (or a case failed), 2 bad input (one line on stderr naming it).
Needs Debian's /usr/bin/python3 with python3-torch (1.13) and python3-numpy.
"""

import argparse
import ctypes
import datetime
import fnmatch
import functools
import json
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import time
import zlib

from attnbench_torch import (GATES, OPS, BadInput, check_saved, core_sdpa, core_softmax, empty_rows, errors,
                             expected_inputs, has_sdpa_form, import_torch, keep_mask, load_inputs, make_baseline,
                             make_mha, mha_expresses, mha_masks, op_refusal, output_shape, parse_problem,
                             references, repeat_kv, worst)

PROG = "pytorch_reference"
SCHEMA_VERSION = 1
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = ("torch.sdpa", "torch.mha", "torch.naive", "torch.conv1d", "torch.lstm", "torch.gru", "torch.rnn")
# The operator each kernel computes (attnbench's KernelInfo::op) and its family.
KERNEL_OP = {"torch.sdpa": "mha", "torch.mha": "mha", "torch.naive": "mha", "torch.conv1d": "conv1d",
             "torch.lstm": "lstm", "torch.gru": "gru", "torch.rnn": "elman"}
FAMILY = {"mha": "attention", "conv1d": "cnn", "lstm": "rnn", "gru": "rnn", "elman": "rnn"}
TOLERANCE = 1e-4  # fp32 against float64, as attnbench's naive kernels
WARMUP_MIN_SECONDS = 0.05  # as attnbench's MeasureOptions


# --------------------------------------------------------------------------------------------------
# Cost model (docs/SEMANTICS.md section 7, kernels/src/cost_model.cpp): the same formulas, evaluated
# in the same order in double precision, so the records' work figures equal attnbench's.
# --------------------------------------------------------------------------------------------------

def visible_pairs(p, kv_valid):
    lq, lk = p.seq_q, p.seq_kv
    if p.mask != "causal":
        return lq * min(max(kv_valid, 0), lk)
    if lq <= lk:
        return lq * lk - lq * (lq - 1) // 2
    return lk * (lk + 1) // 2


def flops(p, lengths, op="mha"):
    """{score, weighting, projections, convolution, recurrent} flops of one forward pass; padding counts
    the actual lengths."""
    work = {"score": 0.0, "weighting": 0.0, "projections": 0.0, "convolution": 0.0, "recurrent": 0.0}
    if op == "conv1d":
        B, L, E = float(p.batch), float(p.seq_q), float(p.model_dim)
        work["convolution"] = float(p.layers) * (2 * B * L * float(p.kernel_size) * E * E + B * L * E)
        return work
    if op in GATES:
        B, L, E = float(p.batch), float(p.seq_q), float(p.model_dim)
        outputs = float(p.directions) * B * L * float(GATES[op]) * E
        work["projections"] = work["recurrent"] = outputs * (2 * E + 1)
        return work
    B, H, Hk = float(p.batch), float(p.heads), float(p.kv_heads)
    Lq, Lk, d, dv = float(p.seq_q), float(p.seq_kv), float(p.head_dim), float(p.value_dim)
    E = float(p.model_dim)
    if p.mask == "padding" and lengths is not None:
        pairs = 0.0
        for valid in lengths:
            pairs += float(visible_pairs(p, int(valid)))
    else:
        pairs = B * float(visible_pairs(p, p.seq_kv))
    if p.score == "scaled_dot":
        score = 2 * H * pairs * d
    elif p.score == "multiplicative":
        score = 2 * B * H * Lq * d * d + 2 * H * pairs * d
    else:
        da = d
        score = 2 * B * H * (Lq + Lk) * d * da + 4 * H * pairs * da
    weighting = 2 * H * pairs * dv
    projections = 0.0
    if p.projections:
        q, k, v = B * Lq * H * d, B * Lk * Hk * d, B * Lk * Hk * dv
        projections = (2 * E + 1) * (q + k + v) + (2 * H * dv + 1) * (B * Lq * E)
    work.update(score=score, weighting=weighting, projections=projections)
    return work


def count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def io_bytes(p, op="mha"):
    """Bytes of every boundary tensor (inputs, lengths, weights, output); fp32 and int32 are 4 bytes."""
    return 4 * (sum(count(shape) for shape, _ in expected_inputs(p, op).values()) + count(output_shape(p, op)))


def sequential_steps(p, op):
    """Steps that must run one after another: L for an RNN, the layers of a conv stack, 1 for attention."""
    return p.seq_q if op in GATES else (p.layers if op == "conv1d" else 1)


def query_tokens(p):
    return p.batch * p.seq_q


def workspace_bytes(p, kernel):
    """Modelled bytes a torch kernel materialises beyond the boundary tensors: the score and probability
    matrices (both [B, H, Lq, Lk]), the additive score's [B, H, Lq, Lk, da] hidden tensor (and its tanh),
    repeated K/V, the head-major output before its transpose, and the module's projections and weights."""
    B, H, Hk, Lq, Lk = p.batch, p.heads, p.kv_heads, p.seq_q, p.seq_kv
    d, dv, E = p.head_dim, p.value_dim, p.model_dim
    op = KERNEL_OP[kernel]
    if op == "conv1d":  # the transposed input and each layer's output
        return 4 * (B * Lq * E * (1 + p.layers) + p.layers * E * E * p.kernel_size)
    if op in GATES:  # the input projection of every step, the gates of one, the module's own weights
        G = GATES[op]
        return 4 * p.directions * (B * Lq * G * E + B * G * E + 2 * G * E * E + 2 * G * E)
    floats = 2 * B * H * Lq * Lk + B * H * Lq * dv
    if p.mask != "none":
        floats += B * Lq * Lk  # a mask as float (SDPA) or the masked copy of the scores
    if p.score == "additive":
        floats += 2 * B * H * Lq * Lk * d + B * H * (Lq + Lk) * d
    if p.score == "multiplicative":
        floats += B * H * Lq * d
    if Hk != H:
        floats += B * H * Lk * (d + dv)
    if kernel == "torch.mha":
        floats += B * (Lq + 2 * Lk) * E + 2 * B * Lq * E + 4 * E * E + 4 * E
    return 4 * floats


def reference_bytes(p, op="mha"):
    """Modelled bytes of the float64 recomputations of --check (several [B, H, Lq, Lk] doubles; a baseline's
    module, inputs and activations in double)."""
    if op != "mha":
        return 2 * io_bytes(p, op) + 8 * 4 * p.directions * p.batch * p.seq_q * p.model_dim * max(1, GATES.get(op, 1))
    per_pair = 4 + (2 * p.head_dim if p.score == "additive" else 0)
    return 8 * (per_pair * p.batch * p.heads * p.seq_q * p.seq_kv
                + 4 * p.batch * (p.seq_q + p.seq_kv) * p.heads * max(p.head_dim, p.value_dim))


# --------------------------------------------------------------------------------------------------
# Statistics (harness/stats.cpp): the same definitions
# --------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)  # Measure asks after every sample
def median_ci_ranks(n):
    """(j, k, coverage): the 1-based ranks of the distribution-free confidence interval of the median,
    [x(j), x(k)], k = n + 1 - j, with j the largest rank whose exact coverage P(j <= B < k),
    B ~ Binomial(n, 1/2), is >= 0.95. Exact integer arithmetic: coverage = 1 - 2 tail / 2^n with
    tail = sum_{i < j} C(n, i). For n <= 5 no interval reaches 95%: [min, max] and its coverage."""
    total = 1 << n
    j, tail = 1, 1  # tail = P(B <= j - 1) * 2^n
    while 2 * (j + 1) <= n + 1:
        next_tail = tail + math.comb(n, j)
        if 40 * next_tail > total:  # 1 - 2 next_tail / 2^n < 0.95
            break
        tail, j = next_tail, j + 1
    coverage = (total - 2 * tail) / total  # exact integers, one rounding
    return j, n + 1 - j, coverage


def summarize(samples):
    s = sorted(samples)
    n = len(s)
    median = s[n // 2] if n % 2 else s[n // 2 - 1] / 2 + s[n // 2] / 2
    mean = sum(s) / n
    stddev = math.sqrt(sum((x - mean) ** 2 for x in s) / (n - 1)) if n > 1 else 0.0
    j, k, coverage = median_ci_ranks(n)
    return {"median_s": median, "mean_s": mean, "stddev_s": stddev, "min_s": s[0], "max_s": s[-1],
            "ci95_low_s": s[j - 1], "ci95_high_s": s[k - 1], "ci95_confidence": coverage,
            "repetitions": n, "samples_s": list(samples)}


class Measure:
    """harness/stopping_rule.cpp's rule: stop with `ci_target` once min_reps samples add up to min_time
    and the median's 95% interval has relative half-width <= ci_target (`minimum` when ci_target is 0);
    else with `max_reps`; else with `max_time` once the samples add up to more than max_time, provided
    min_reps samples exist or one sample alone was longer."""

    def __init__(self, warmup, min_reps, max_reps, min_time, max_time, ci_target):
        self.warmup, self.min_reps, self.max_reps = warmup, min_reps, max_reps
        self.min_time, self.max_time, self.ci_target = min_time, max_time, ci_target

    def halfwidth(self, samples):
        """The 95% interval's relative half-width, or None below 95% coverage."""
        s = sorted(samples)
        n = len(s)
        j, k, coverage = median_ci_ranks(n)
        if coverage < 0.95:
            return None
        median = s[n // 2] if n % 2 else s[n // 2 - 1] / 2 + s[n // 2] / 2
        half = (s[k - 1] - s[j - 1]) / 2
        return 0.0 if half == 0 else (half / median if median > 0 else math.inf)

    def run(self, fn):
        """(samples in seconds, the record's timing notes) of fn: warm-up, then timed calls."""
        start, calls = time.perf_counter_ns(), 0
        while calls < self.warmup or (time.perf_counter_ns() - start) * 1e-9 < WARMUP_MIN_SECONDS:
            fn()
            calls += 1
        warmup_s = (time.perf_counter_ns() - start) * 1e-9
        samples, total, slowest, met, stop, next_test = [], 0.0, 0.0, False, None, 1
        while stop is None:
            t0 = time.perf_counter_ns()
            fn()
            elapsed = (time.perf_counter_ns() - t0) * 1e-9
            samples.append(elapsed)
            total += elapsed
            slowest = max(slowest, elapsed)
            n = len(samples)
            if self.ci_target > 0 and n >= next_test:
                h = self.halfwidth(samples)
                met = h is not None and h <= self.ci_target
                next_test = n + 1 if n < 64 else n + max(1, n // 16)
            if n >= self.min_reps and total >= self.min_time and (met or self.ci_target == 0):
                stop = "ci_target" if self.ci_target > 0 else "minimum"
            elif n >= self.max_reps:
                stop = "max_reps"
            elif total > self.max_time and (n >= self.min_reps or slowest > self.max_time):
                stop = "max_time"
        has_target = self.ci_target > 0
        notes = {"warmup_calls": calls, "warmup_s": warmup_s, "ci_target": self.ci_target if has_target else None,
                 "target_met": met if has_target else None, "stop": stop, "cache": "hot", "cache_flush_bytes": 0,
                 "interleave": None}
        return samples, notes


# --------------------------------------------------------------------------------------------------
# Machine, memory, provenance
# --------------------------------------------------------------------------------------------------

def proc_kib(path, field):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def reset_peak_rss():
    """Reset VmHWM to the current resident set (as attnbench does before each case); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    """VmHWM (the peak since the last reset), else getrusage's ru_maxrss (the peak since start)."""
    hwm = proc_kib("/proc/self/status", "VmHWM")
    if hwm is not None:
        return hwm
    try:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    except (OSError, ValueError):
        return None


def available_memory_bytes():
    """MemAvailable, lowered to this cgroup's (v2) remaining limit when it has one; None if unknown."""
    avail = proc_kib("/proc/meminfo", "MemAvailable")
    try:
        with open("/proc/self/cgroup") as f:
            rel = next((line.split(":", 2)[2].strip() for line in f if line.startswith("0::")), None)
        if rel is not None:
            base = os.path.join("/sys/fs/cgroup", rel.lstrip("/"))
            with open(os.path.join(base, "memory.max")) as f:
                limit = f.read().strip()
            if limit != "max":
                with open(os.path.join(base, "memory.current")) as f:
                    left = max(0, int(limit) - int(f.read().strip()))
                avail = left if avail is None else min(avail, left)
    except (OSError, ValueError, StopIteration):
        pass
    return avail


def format_bytes(n):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    x, i = float(n), 0
    while abs(x) >= 1024 and i < len(units) - 1:
        x, i = x / 1024, i + 1
    return f"{int(x)} {units[i]}" if x == int(x) else f"{x:.2f} {units[i]}"


def cpu_info():
    model, flags, cores = None, set(), set()
    physical, core = "0", None
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().split("\n")
    except OSError:
        lines = []
    for line in lines + [""]:
        if not line.strip():
            if core is not None:
                cores.add((physical, core))
            physical, core = "0", None
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model name" and model is None:
            model = value
        elif key == "flags" and not flags:
            flags = set(value.split())
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
    return model, flags, cores


def git_commit():
    """The repository's commit (12 hex digits, as attnbench's build), "-dirty" if tracked files changed."""
    def git(*args):
        return subprocess.run(["git", "--no-optional-locks", "-C", REPO, *args], capture_output=True, text=True,
                              timeout=20, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        if not commit:
            return "unknown"
        return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def torch_build(torch):
    """(build_type, flags) of the torch build, from torch.__config__.show()."""
    try:
        text = torch.__config__.show()
    except Exception:  # noqa: BLE001 - informational only
        return "unknown", ""
    build_type, capability = "unknown", ""
    for part in text.replace("\n", ",").split(","):
        part = part.strip().lstrip("- ")
        if part.startswith("BUILD_TYPE="):
            build_type = part.split("=", 1)[1]
        if part.startswith("CPU capability usage:"):
            capability = "ATen CPU capability " + part.split(":", 1)[1].strip()
    return build_type, capability


def openblas():
    """The OpenBLAS library torch loaded (Debian's torch links libblas, often OpenBLAS), or None."""
    try:
        with open("/proc/self/maps") as f:
            path = next((line.split()[-1] for line in f if "libopenblas" in line and "/" in line), None)
        return ctypes.CDLL(path) if path else None
    except (OSError, StopIteration):
        return None


def set_threads(torch, threads):
    """torch.set_num_threads(T), and OpenBLAS's own thread pool to T when it is loaded; returns the
    threads torch reports and the OpenBLAS version string (or None)."""
    torch.set_num_threads(threads)
    blas, version = openblas(), None
    if blas is not None:
        try:
            blas.openblas_set_num_threads(ctypes.c_int(threads))
            blas.openblas_get_config.restype = ctypes.c_char_p
            version = blas.openblas_get_config().decode("ascii", "replace").split(" ")[1]
        except (AttributeError, IndexError):
            pass
    return torch.get_num_threads(), version


def provenance(np, torch, threads, blas_version):
    model, flags, cores = cpu_info()
    build_type, build_flags = torch_build(torch)
    uname = platform.uname()
    libs = {"torch": torch.__version__, "numpy": np.__version__}
    if blas_version:
        libs["openblas"] = blas_version
    prov = {"version": f"torch-{torch.__version__}", "git_commit": git_commit(),
            "compiler": f"python {platform.python_version()}", "flags": build_flags, "build_type": build_type,
            "cpu": model or "unknown", "cores": os.sysconf("SC_NPROCESSORS_ONLN") or os.cpu_count()}
    if cores:
        prov["physical_cores"] = len(cores)
    host = socket.gethostname()
    # One process: the hosts/nodes/rank_hosts fields attnbench gathers across ranks (docs/RESULTS.md),
    # named by the Slurm node as attnbench does, since Slurm's virtual nodes may share a hostname.
    node = os.environ.get("SLURMD_NODENAME") or host
    prov.update({"cpu_flags": {name: name in flags for name in ("avx2", "fma", "avx512f")},
                 "host": host, "hosts": [node], "nodes": 1, "rank_hosts": [0],
                 "os": f"{uname.system} {uname.release}", "threads": threads, "ranks": 1,
                 "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "libraries": libs,
                 # attnbench's record of thread placement; this script leaves it to torch (docs/RESULTS.md).
                 "pinning": {"mode": "none", "applied": False, "cpus": [], "reason": ""}})
    if os.environ.get("SLURM_JOB_ID"):
        prov["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
    return prov


# --------------------------------------------------------------------------------------------------
# Results file: append-only JSON Lines, one write + fsync per record (docs/RESULTS.md)
# --------------------------------------------------------------------------------------------------

def finite(x):
    """The record with every NaN/infinity as null (as nlohmann::json writes them; JSON has neither)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [finite(v) for v in x]
    return x


class ResultsFile:
    def __init__(self, path):
        self.path = path
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise BadInput(f"--out: cannot open '{path}' for appending: {e.strerror}; "
                           "give a writable file path (its directory must exist)") from None
        self.check_tail = True

    def append(self, record):
        line = json.dumps(finite(record), separators=(",", ":"), allow_nan=False) + "\n"
        if self.check_tail:  # a line torn by a killed run gets terminated, so the new one stays readable
            self.check_tail = False
            try:
                size = os.fstat(self.fd).st_size
                if size > 0:
                    with open(self.path, "rb") as f:
                        f.seek(size - 1)
                        if f.read(1) != b"\n":
                            line = "\n" + line
            except OSError:
                pass
        data = line.encode()
        while data:
            written = os.write(self.fd, data)
            data = data[written:]
        os.fsync(self.fd)


# --------------------------------------------------------------------------------------------------
# The console table (harness/console_table.cpp's formats)
# --------------------------------------------------------------------------------------------------

def format_number(x):
    if x is None or not math.isfinite(x):
        return "-"
    m = abs(x)
    decimals = 0 if m >= 100 else 1 if m >= 10 else 2 if m >= 1 else 3 if m >= 0.1 else 4
    return f"{x:.{decimals}f}"


def format_seconds(s):
    if s is None or not math.isfinite(s):
        return "-"
    if s < 1e-6:
        return format_number(s * 1e9) + " ns"
    if s < 1e-3:
        return format_number(s * 1e6) + " us"
    if s < 1:
        return format_number(s * 1e3) + " ms"
    return format_number(s) + " s"


def format_si(x):
    if x is None or not math.isfinite(x):
        return "-"
    suffixes, i = ["", "k", "M", "G", "T"], 0
    while abs(x) >= 1000 and i < 4:
        x, i = x / 1000, i + 1
    return f"{x:.2f}{suffixes[i]}" if i else f"{x:.0f}"


class Table:
    def __init__(self, problems):
        width = max([16] + [len(p.str()) for p in problems])
        self.columns = [("problem", width, False), ("kernel", 12, False), ("thr", 3, True), ("median", 9, True),
                        ("+-95%", 6, True), ("GFLOP/s", 8, True), ("GB/s", 7, True), ("tokens/s", 8, True),
                        ("check", 8, True), ("status", 7, False)]

    def row(self, cells):
        parts = [(c.rjust(w) if right else c.ljust(w)) for c, (_, w, right) in zip(cells, self.columns)]
        print("  ".join(parts), flush=True)

    def header(self):
        self.row([title for title, _, _ in self.columns])
        print("-" * (sum(w + 2 for _, w, _ in self.columns) - 2), flush=True)

    def record(self, r):
        cells = [r["problem_str"], r["kernel"], str(r["threads"])]
        t = r["time"]
        if t:
            spread = "n<6"
            if t["ci95_confidence"] >= 0.95:
                half = (t["ci95_high_s"] - t["ci95_low_s"]) / 2
                spread = f"{100 * half / t['median_s']:.1f}%" if t["median_s"] > 0 else "-"
            rate = r["rate"]
            cells += [format_seconds(t["median_s"]), spread, format_number(rate["gflops"]),
                      format_number(rate["gbytes_per_s"]), format_si(rate["tokens_per_s"])]
        else:
            cells += ["-"] * 5
        c = r["check"]
        cells.append(f"{c['max_rel_error']:.1e}" if c else "-")
        cells.append(r["status"] + (": " + r["reason"] if r["reason"] else ""))
        self.row(cells)


# --------------------------------------------------------------------------------------------------
# The kernels
# --------------------------------------------------------------------------------------------------

def supports(kernel, p):
    """None if the kernel runs the problem, else the reason it cannot (recorded as "skipped")."""
    why = op_refusal(KERNEL_OP[kernel], p)
    if why is not None or KERNEL_OP[kernel] != "mha":
        return why
    if kernel == "torch.mha":
        why = mha_expresses(p)
        return f"{why}; torch.sdpa and torch.naive measure the attention core" if why and not p.projections else why
    if p.projections:
        return f"{kernel} is the attention core only; the full module (_proj) is measured by torch.mha"
    if kernel == "torch.sdpa" and not has_sdpa_form(p):
        return ("torch's scaled_dot_product_attention computes dot-product scores only; "
                f"{p.score} scoring has no SDPA form (torch.naive computes it)")
    return None


def prepare(torch, kernel, p, arrays):
    """Untimed set-up: the inputs as float32 torch tensors (sharing the arrays' memory), the masks, the
    module. Returns the timed call, which returns the output in attnbench's layout."""
    t = {name: torch.from_numpy(a) for name, a in arrays.items() if name != "lengths"}
    op = KERNEL_OP[kernel]
    if op != "mha":
        module, x = make_baseline(torch, op, p, t, torch.float32), t["x"]
        return lambda: module(x)
    lengths = torch.from_numpy(arrays["lengths"]).to(torch.int64) if "lengths" in arrays else None
    empty = empty_rows(torch, p, lengths)  # [B, 1, Lq, 1] rows with no visible key, or None

    if kernel == "torch.mha":
        mha = make_mha(torch, p, t, torch.float32)
        attn_mask, key_padding_mask = mha_masks(torch, p, lengths)
        q, k, v, b_o = t["q"], t["k"], t["v"], t["b_o"]
        empty_module = None if empty is None else empty[:, 0]  # [B, Lq, 1]

        def run():
            out = mha(q, k, v, key_padding_mask=key_padding_mask, need_weights=False, attn_mask=attn_mask)[0]
            # torch gives NaN on a row with no visible key; attnbench's module gives 0 W_o^T + b_o.
            return out if empty_module is None else torch.where(empty_module, b_o, out)
        return run

    keep = keep_mask(torch, p, lengths)  # True = visible, broadcastable to [B, H, Lq, Lk]
    core = core_sdpa if kernel == "torch.sdpa" else core_softmax
    q, k, v = t["q"], t["k"], t["v"]

    def run():
        kk, vv = repeat_kv(p, k.transpose(1, 2), v.transpose(1, 2))  # [B, L, H, .] -> [B, H, L, .]
        o = core(torch, p, t, q.transpose(1, 2), kk, vv, keep, empty)
        return o.transpose(1, 2).contiguous()  # back to [B, Lq, H, dv]
    return run


def make_inputs(np, torch, p, seed, only=None, op="mha"):
    """Random inputs with attnbench's distributions from torch.Generator streams (seed XOR crc32(name)):
    the same names, shapes and scales as attnbench's make_inputs, but not its values."""
    arrays = {}
    for name, (shape, kind) in expected_inputs(p, op).items():
        if only is not None and name not in only:
            continue
        g = torch.Generator().manual_seed(seed ^ zlib.crc32(name.encode()))
        if kind == "i":  # lengths: valid keys per batch entry, uniform in [1, Lk]
            arrays[name] = torch.randint(1, p.seq_kv + 1, shape, generator=g, dtype=torch.int32).numpy()
            continue
        scale = 1.0  # activations N(0, 1)
        if name not in ("q", "k", "v", "x", "h0", "c0"):
            fan_in = shape[2] * shape[3] if name == "w_conv" else shape[-1]
            scale = 0.1 if name.startswith("b_") else (2.0 if name == "v_score" else 1.0) / math.sqrt(fan_in)
        x = torch.randn(shape, generator=g, dtype=torch.float64) * scale  # scaled in double, as attnbench
        arrays[name] = x.to(torch.float32).numpy()
    return arrays


def run_case(torch, kernel, p, arrays, refs, measure):
    """(status, reason, time stats or None, check or None, setup_s, peak_rss) of one case."""
    status, reason, stats, check, setup_s = "ok", "", None, None, 0.0
    reset_peak_rss()
    try:
        t0 = time.perf_counter_ns()
        fn = prepare(torch, kernel, p, arrays)
        setup_s = (time.perf_counter_ns() - t0) * 1e-9
        out = fn()
        if refs is not None:  # --check: against every float64 torch formulation of the problem
            results = [errors(torch, out, ref) for ref in refs.values()]
            rel = worst([r[0] for r in results])
            absolute = worst([r[1] for r in results])
            passed = rel <= TOLERANCE  # False for NaN
            check = {"max_rel_error": rel, "max_abs_error": absolute, "tolerance": TOLERANCE, "passed": passed}
            if not passed:
                status, reason = "failed", f"check failed: max_rel_error {rel:.6g} > tolerance {TOLERANCE:g}"
        del out
        if status == "ok":
            samples, notes = measure.run(fn)
            stats = {**summarize(samples), **notes}
    except MemoryError:
        status, reason = "failed", "out of memory during set-up or run"
    except RuntimeError as e:  # torch reports its errors (an allocation that failed, ...) this way
        status, reason = "failed", str(e).strip().split("\n")[0]
    return status, reason, stats, check, setup_s, peak_rss_bytes()


def make_record(kernel, p, threads, status, reason, inputs_name, seed, work, stats, check, setup_s, peak, prov):
    op = KERNEL_OP[kernel]
    workspace = workspace_bytes(p, kernel) if status != "skipped" else 0
    io = io_bytes(p, op)
    total = sum(work.values())
    rate = None
    if stats and stats["median_s"] > 0:
        t = stats["median_s"]
        rate = {"gflops": total / t * 1e-9, "gbytes_per_s": io / t * 1e-9, "tokens_per_s": query_tokens(p) / t,
                "pct_peak": None}
    return {"schema_version": SCHEMA_VERSION, "kernel": kernel, "family": FAMILY[op], "op": op,
            "problem": p.to_json(), "problem_str": p.str(), "threads": threads, "ranks": 1,
            "status": status, "reason": reason, "inputs": inputs_name, "seed": seed,
            "work": {"flops": total, "flops_score": work["score"], "flops_weighting": work["weighting"],
                     "flops_projections": work["projections"], "flops_convolution": work["convolution"],
                     "flops_recurrent": work["recurrent"], "bytes": io, "query_tokens": query_tokens(p),
                     "sequential_steps": sequential_steps(p, op)},
            "time": stats, "setup_s": setup_s, "rate": rate,
            "memory": {"peak_rss_bytes": peak, "model_bytes": io + workspace, "workspace_bytes": workspace},
            "check": check, "comm": {"bytes": 0, "seconds": 0.0, "phases": []}, "rank_time": None,
            "provenance": prov}


# --------------------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------------------

def split_list(values):
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def resolve_kernels(values):
    chosen = []
    for pattern in split_list(values) or ["all"]:
        if pattern == "all":
            matched = list(KERNELS)
        elif pattern in ("attention", "cnn", "rnn"):
            matched = [k for k in KERNELS if FAMILY[KERNEL_OP[k]] == pattern]
        else:
            matched = fnmatch.filter(KERNELS, pattern)
        if not matched:
            raise BadInput(f"unknown kernel '{pattern}'; the kernels are {', '.join(KERNELS)} (or all)")
        chosen += [k for k in matched if k not in chosen]
    return chosen


def settings_check(args):
    if args.threads < 1:
        raise BadInput(f"--threads must be >= 1 (got {args.threads})")
    if args.warmup < 0:
        raise BadInput(f"--warmup must be >= 0 (got {args.warmup})")
    if args.min_reps < 1:
        raise BadInput(f"--min-reps must be >= 1 (got {args.min_reps})")
    if args.max_reps < args.min_reps:
        raise BadInput(f"--max-reps ({args.max_reps}) is below --min-reps ({args.min_reps})")
    if not (math.isfinite(args.min_time) and args.min_time >= 0):
        raise BadInput(f"--min-time must be a number >= 0 (got {args.min_time})")
    if not (math.isfinite(args.max_time) and args.max_time > 0):
        raise BadInput(f"--max-time must be a number > 0 (got {args.max_time})")
    if args.max_time < args.min_time:
        raise BadInput(f"--max-time ({args.max_time:g} s) is below --min-time ({args.min_time:g} s)")
    if not (math.isfinite(args.ci_target) and 0 <= args.ci_target < 1):
        raise BadInput(f"--ci-target must be in [0, 1) (got {args.ci_target})")
    if not 0 <= args.seed < 1 << 63:
        raise BadInput(f"--seed must be in [0, 2^63) (got {args.seed})")


def cmd_run(args):
    try:
        settings_check(args)
        problems = [parse_problem(text) for text in split_list(args.problem)]
        if not problems:
            raise BadInput("--problem is empty; give a problem string, e.g. b1_h16_sq2048_d64")
        kernels = resolve_kernels(args.kernel)
        if args.inputs is not None and len(problems) != 1:
            raise BadInput(f"--inputs needs exactly one problem (got {len(problems)})")
        ops = sorted({KERNEL_OP[k] for k in kernels})
        if args.inputs is not None and len(ops) != 1:
            raise BadInput(f"--inputs holds the tensors of one operator, but the kernels compute {', '.join(ops)}; "
                           "run them separately")
        np, torch = import_torch()
        need_fits = available_memory_bytes()
        for p in problems:
            for k in kernels:
                if supports(k, p) is not None:
                    continue
                op = KERNEL_OP[k]
                need = io_bytes(p, op) + workspace_bytes(p, k) + (reference_bytes(p, op) if args.check else 0)
                if need_fits is not None and need > need_fits:
                    raise BadInput(f"{p.str()} with {k} needs about {format_bytes(need)} (inputs, output, "
                                   f"torch's intermediates{', float64 check' if args.check else ''}) but only "
                                   f"{format_bytes(need_fits)} is available; reduce the batch, sequence or heads"
                                   f"{', or drop --check' if args.check else ''}")
        out = ResultsFile(args.out) if args.out is not None else None  # before measuring: fail in a second
        user_arrays = None
        if args.inputs is not None:
            p = problems[0]
            user_arrays = load_inputs(np, args.inputs, p, weights_optional=True, op=ops[0])
            missing = [name for name in expected_inputs(p, ops[0]) if name not in user_arrays]
            if missing:
                print(f"note: {args.inputs} has no {', '.join(missing)}; generated from --seed {args.seed}",
                      file=sys.stderr)
                user_arrays.update(make_inputs(np, torch, p, args.seed, only=missing, op=ops[0]))
    except BadInput as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2

    torch.set_grad_enabled(False)
    threads, blas_version = set_threads(torch, args.threads)
    prov = provenance(np, torch, threads, blas_version)
    measure = Measure(args.warmup, args.min_reps, args.max_reps, args.min_time, args.max_time, args.ci_target)
    table = Table(problems)
    print(f"{PROG}: torch {torch.__version__} (attnbench {prov['git_commit']}) on {prov['cpu']}, "
          f"{prov['cores']} logical CPUs, {threads} threads"
          + (f"; results -> {args.out}" if args.out else "") + "\n", flush=True)
    table.header()

    any_failed = False
    for p in problems:
        # The inputs and the float64 recomputations depend on the operator: made once per (problem,
        # operator), before that operator's first case (so that no case's peak memory includes them).
        arrays_by_op, refs_by_op = {}, {}
        for k in kernels:
            op = KERNEL_OP[k]
            why = supports(k, p)
            if why is None and op not in arrays_by_op:
                arrays_by_op[op] = user_arrays if user_arrays is not None else make_inputs(np, torch, p, args.seed,
                                                                                          op=op)
                refs_by_op[op] = references(torch, p, arrays_by_op[op], op) if args.check else None
            work = flops(p, arrays_by_op[op].get("lengths") if op in arrays_by_op else None, op)
            if why is not None:
                status, reason, stats, check, setup_s, peak = "skipped", why, None, None, 0.0, None
            else:
                status, reason, stats, check, setup_s, peak = run_case(torch, k, p, arrays_by_op[op],
                                                                       refs_by_op[op], measure)
            any_failed |= status == "failed"
            record = make_record(k, p, threads, status, reason, args.inputs if args.inputs is not None else "random",
                                 0 if args.inputs is not None else args.seed, work, stats, check, setup_s, peak, prov)
            if out is not None:
                out.append(record)
            table.record(record)
        del refs_by_op
    return 1 if any_failed else 0


def cmd_validate(args):
    return check_saved(PROG, args.dir, args.problem, args.tolerance, args.op)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line on stderr, exit 2."""

    def error(self, message):
        print(f"{PROG}: {message} (see {self.prog.replace(PROG, 'pytorch_reference.py')} --help)", file=sys.stderr)
        sys.exit(2)


def main(argv):
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="command", metavar="{run,validate}")
    sub.required = True

    run = sub.add_parser("run", help="measure PyTorch on attnbench problems, write attnbench records",
                         description="Measure PyTorch on attnbench problems and write attnbench records.")
    run.add_argument("--problem", action="append", required=True, metavar="STR[,STR...]",
                     help="problem string(s), e.g. b1_h16_sq2048_d64_causal; repeatable or comma-separated")
    run.add_argument("--kernel", action="append", default=[], metavar="ID[,ID...]",
                     help=f"{', '.join(KERNELS)}, a glob (torch.*) or all (default: all)")
    run.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                     help="torch.set_num_threads (default: all logical CPUs this process may use)")
    run.add_argument("--check", action="store_true",
                     help="compare each fp32 output with float64 torch recomputations (exit 1 if one fails)")
    run.add_argument("--out", metavar="FILE.jsonl", help="append one JSON Lines record per case (created if missing)")
    run.add_argument("--inputs", metavar="DIR", help="read q.npy k.npy v.npy [lengths.npy] and weights written by "
                                                     "attnbench run --save-output (default: random inputs)")
    run.add_argument("--seed", type=int, default=42, help="seed of the random inputs (default 42; the values "
                                                          "differ from attnbench's for the same seed)")
    run.add_argument("--warmup", type=int, default=1, help="untimed calls before timing, at least 50 ms (default 1)")
    run.add_argument("--min-reps", type=int, default=6, help="minimum timed repetitions (default 6)")
    run.add_argument("--max-reps", type=int, default=10000, help="maximum timed repetitions (default 10000)")
    run.add_argument("--min-time", type=float, default=0.1, help="keep repeating until this many seconds are timed "
                                                                 "(default 0.1)")
    run.add_argument("--max-time", type=float, default=10.0, help="the per-case budget: stop repeating after this "
                                                                  "many seconds even if --ci-target is not met "
                                                                  "(default 10)")
    run.add_argument("--ci-target", type=float, default=0.02, help="repeat until the median's 95%% interval is "
                                                                   "within this fraction of it (default 0.02; 0: "
                                                                   "no target)")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check an attnbench output (run --save-output DIR) against PyTorch",
                         description="Recompute a case saved by attnbench run --save-output DIR in float64 with "
                                     "PyTorch and compare DIR/out.npy (the torch_check.py check).")
    val.add_argument("dir", help="directory written by attnbench run --save-output")
    val.add_argument("--problem", required=True, help="problem string, e.g. b2_h4_sq16_d8_causal")
    val.add_argument("--tolerance", type=float, default=1e-4, help="largest accepted metric (default 1e-4)")
    val.add_argument("--op", default="mha", choices=OPS,
                     help="the operator of the kernel that wrote DIR: mha (attention, default), conv1d, lstm, gru, "
                          "elman (attnbench list shows each kernel's)")
    val.set_defaults(func=cmd_validate)

    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
