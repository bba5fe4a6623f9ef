#!/usr/bin/python3
"""attnbench's CNN/RNN baselines side by side with PyTorch's, interleaved, as a markdown table.

usage:
  scripts/baselines_vs_torch.py [--attnbench build/release/attnbench] [--problems STR[,STR...]]
                                [--threads 1,2] [--rounds 3] [--min-time 1] [--out FILE.jsonl]

Each round runs, for every thread count, `attnbench run` on the attnbench kernels and then
`scripts/pytorch_reference.py run` on the matching torch kernels (torch.conv1d for cnn.conv1d.*,
torch.lstm for rnn.lstm.*, ...), every case on the same problem strings: on a shared machine both see
the same load, round by round. The table gives each (problem, kernel, threads) the median over rounds
of the per-round medians, the GFLOP/s of that median (attnbench's cost model, the same for both), and
attnbench's speed-up over torch (the torch median over the attnbench median; each round's ratio, then
their median). All records go to --out (JSON Lines, attnbench's schema). The `uptime` load averages
before and after are printed with the table: quote them with the figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from attnbench_torch import parse_problem

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The baseline kernels and the torch kernel each is compared with.
PAIRS = {"cnn.conv1d": "torch.conv1d", "rnn.lstm": "torch.lstm", "rnn.gru": "torch.gru", "rnn.elman": "torch.rnn"}
DEFAULT_PROBLEMS = "b1_h8_sq2048_d64,b1_h16_sq2048_d64"  # D = 512 and 1024, seq 2048, B = 1, k = 3


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnbench", default=os.path.join(REPO, "build", "release", "attnbench"))
    ap.add_argument("--problems", default=DEFAULT_PROBLEMS)
    ap.add_argument("--kernels", default="cnn.conv1d,rnn.lstm,rnn.gru",
                    help="baselines (without backend) to compare: " + ", ".join(PAIRS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", default="1")
    ap.add_argument("--out", help="append every record here (default: a temporary file)")
    args = ap.parse_args(argv)
    bases = [k.strip() for k in args.kernels.split(",") if k.strip()]
    for b in bases:
        if b not in PAIRS:
            print(f"baselines_vs_torch: unknown baseline '{b}' (valid: {', '.join(PAIRS)})", file=sys.stderr)
            return 2
    if not os.access(args.attnbench, os.X_OK):
        print(f"baselines_vs_torch: no attnbench at {args.attnbench}; pass --attnbench", file=sys.stderr)
        return 2
    threads = [int(t) for t in args.threads.split(",")]
    out = args.out or tempfile.mkstemp(suffix=".jsonl")[1]
    quiet = ["--min-time", args.min_time]
    print(f"load before: {load()}", flush=True)
    times = {}  # (problem, kernel, threads) -> [median per round]
    flops = {}
    for _ in range(args.rounds):
        for t in threads:
            ours = ",".join(f"{b}.serial" if t == 1 else f"{b}.omp" for b in bases)
            theirs = ",".join(PAIRS[b] for b in bases)
            for cmd in ([args.attnbench, "run", "--kernel", ours, "--problem", args.problems, "--threads", str(t)],
                        ["/usr/bin/python3", os.path.join(REPO, "scripts", "pytorch_reference.py"), "run",
                         "--kernel", theirs, "--problem", args.problems, "--threads", str(t)]):
                with tempfile.NamedTemporaryFile(suffix=".jsonl") as tmp:
                    subprocess.run(cmd + quiet + ["--out", tmp.name], check=True, stdout=subprocess.DEVNULL)
                    for r in records(tmp.name):
                        with open(out, "a") as f:
                            f.write(json.dumps(r) + "\n")
                        if r["status"] != "ok":
                            continue
                        kernel = r["kernel"].rsplit(".", 1)[0] if r["kernel"].startswith(("cnn.", "rnn.")) else r["kernel"]
                        key = (r["problem_str"], kernel, r["threads"])
                        times.setdefault(key, []).append(r["time"]["median_s"])
                        flops[key] = r["work"]["flops"]
    print(f"load after: {load()}; records -> {out}\n")
    print("| problem | baseline | threads | attnbench median | GFLOP/s | torch median | GFLOP/s | speed-up |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for text in args.problems.split(","):
        p = parse_problem(text).str()  # as the records name it
        for b in bases:
            for t in threads:
                a, o = times.get((p, b, t)), times.get((p, PAIRS[b], t))
                if not a or not o:
                    continue
                ratio = statistics.median(x / y for x, y in zip(o, a))
                ma, mo = statistics.median(a), statistics.median(o)
                print(f"| {p} | {b} | {t} | {ma * 1e3:.1f} ms | {flops[(p, b, t)] / ma * 1e-9:.1f} | {mo * 1e3:.1f} ms "
                      f"| {flops[(p, PAIRS[b], t)] / mo * 1e-9:.1f} | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
