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

The same check is `scripts/pytorch_reference.py validate DIR --problem STR`; both use
scripts/attnbench_torch.py. Needs Debian's /usr/bin/python3 with python3-torch (1.13) and python3-numpy.
"""

import argparse
import sys

from attnbench_torch import check_saved

PROG = "torch_check"


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
    return check_saved(PROG, args.dir, args.problem, args.tolerance)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
