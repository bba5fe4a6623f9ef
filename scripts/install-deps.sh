#!/usr/bin/env bash
# Installs the Debian 12 packages attnbench needs to build, test and write reports.
#
#   scripts/install-deps.sh            build + test dependencies (what the README commands need)
#   scripts/install-deps.sh --python   also PyTorch and matplotlib (scripts/pytorch_reference.py, plots)
#   scripts/install-deps.sh --dry-run  print what would be installed, install nothing
#
# Idempotent: packages already installed are skipped. Never prompts. Needs root (or passwordless sudo).
set -euo pipefail

# Build and test: one line per package, with the reason it is needed.
PACKAGES=(
  g++                           # the compiler (12 on Debian 12)
  cmake                         # build system (>= 3.25)
  make
  git                           # provenance: each result records the commit it was built from
  libopenmpi-dev openmpi-bin    # MPI kernels and mpirun
  libtbb-dev                    # oneTBB-threaded kernels
  libboost-program-options-dev  # the attnbench command line
  libbenchmark-dev              # Google Benchmark programs in benchmarks/
  libgtest-dev libgmock-dev     # unit tests (ctest)
  nlohmann-json3-dev            # results files (JSON Lines)
  libopenblas-dev               # BLAS for Q/K/V/O projections
  libdnnl-dev                   # oneDNN: the vendor-library attention kernels (mha.onednn.*)
  # Cluster scripts and their tests (tests/cluster): a local Slurm, separate "hosts" in network namespaces.
  slurm-wlm munge               # sbatch/srun job scripts; slurmctld + slurmd + munged for the local cluster
  iproute2 procps util-linux    # ip netns/veth, sysctl, unshare (netns-hosts.sh)
  python3                       # summaries of run directories and the cluster tests' record checks
  clang libclang-rt-14-dev      # libFuzzer targets of the parsers (tests/fuzz, scripts/fuzz.sh)
  libomp-14-dev                 # ThreadSanitizer with OpenMP: LLVM libomp and its Archer tool (scripts/tsan.sh)
  clang-tidy cppcheck shellcheck  # static analysis (scripts/lint.sh, .clang-tidy, .cppcheck-suppressions)
  chromium                      # headless render test of report.html (tests/report_render_chromium.sh)
)
PYTHON_PACKAGES=(
  python3-torch                 # scripts/pytorch_reference.py: framework baseline and cross-validation
  python3-numpy
  python3-matplotlib            # plots in reports
)

dry_run=0
for arg in "$@"; do
  case "$arg" in
    --python) PACKAGES+=("${PYTHON_PACKAGES[@]}") ;;
    --dry-run) dry_run=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (use --python, --dry-run or --help)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    :
  else
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed; nothing to do."
  exit 0
fi
echo "install-deps: installing ${#missing[@]} Debian package(s): ${missing[*]}"
[ "$dry_run" -eq 1 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-deps: not root and no sudo; run as root: apt-get install -y ${missing[*]}" >&2; exit 2
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done."
