#!/usr/bin/env bash
# Static analysis, as CI runs it: clang-tidy (checks in .clang-tidy), cppcheck (suppressions, each with
# its reason, in .cppcheck-suppressions) and shellcheck over the scripts. Exits 1 on any finding.
#
#   scripts/lint.sh                       all three
#   scripts/lint.sh clang-tidy cppcheck   only the ones named (clang-tidy, cppcheck, shellcheck)
#   scripts/lint.sh clang-tidy -- FILE... clang-tidy on these files only (fast check of an edit)
#   scripts/lint.sh --analyzer ...        clang-tidy also runs the Clang Static Analyzer (slow: see .clang-tidy)
#
# clang-tidy covers kernels/ harness/ reports/ benchmarks/ (and our headers they include); tests/ is left
# to cppcheck and the compilers' warnings: GoogleTest's macros make each test file cost several times a
# source file, more than CI's budget allows. Needs clang-tidy, cppcheck, shellcheck
# (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=() files=() analyzer=0
while [ $# -gt 0 ]; do
  case "$1" in
    clang-tidy|cppcheck|shellcheck) tools+=("$1") ;;
    --analyzer) analyzer=1 ;;
    --) shift; files=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lint.sh: unknown argument '$1' (use clang-tidy, cppcheck, shellcheck, --analyzer, -- FILE..., or --help)" >&2
       exit 2 ;;
  esac
  shift
done
[ ${#tools[@]} -gt 0 ] || tools=(clang-tidy cppcheck shellcheck)
for tool in "${tools[@]}"; do
  exe=$tool; [ "$tool" = clang-tidy ] && exe=run-clang-tidy
  command -v "$exe" >/dev/null || { echo "lint.sh: $exe not found; run scripts/install-deps.sh" >&2; exit 2; }
done

jobs=$(nproc)
build=build/lint
status=0
stamp() { echo "lint: $1 in $(( $(date +%s) - $2 )) s"; }

# Our sources' compile commands (the release preset's flags), without the two files the build generates
# (build_info.cpp, sweep_presets.cpp): they exist only after a build, and are not ours to lint.
compile_db() {
  cmake --preset release -B "$build/configure" >/dev/null
  python3 - "$build/configure/compile_commands.json" "$build/compile_commands.json" <<'EOF'
import json, sys
commands = [c for c in json.load(open(sys.argv[1])) if "/build/" not in c["file"]]
json.dump(commands, open(sys.argv[2], "w"), indent=1)
EOF
}

case " ${tools[*]} " in *" clang-tidy "*|*" cppcheck "*) compile_db ;; esac
for tool in "${tools[@]}"; do
  t0=$(date +%s)
  case "$tool" in
    clang-tidy)
      # g++ flags clang does not know (-Wno-restrict) are not findings.
      args=(-p "$build" -j "$jobs" -quiet -extra-arg=-Wno-unknown-warning-option)
      [ $analyzer -eq 1 ] && args+=(-checks='clang-analyzer-core.*,clang-analyzer-cplusplus.*,clang-analyzer-deadcode.*,clang-analyzer-unix.*,clang-analyzer-optin.cplusplus.*')
      if [ ${#files[@]} -gt 0 ]; then
        regex=$(printf '%s|' "${files[@]}"); regex="(${regex%|})\$"
      else
        regex="/(kernels|harness|reports|benchmarks)/"
      fi
      run-clang-tidy "${args[@]}" "$regex" || status=1
      ;;
    cppcheck)
      # --library: the macros and functions of GoogleTest, POSIX and OpenMP, so that tests parse and
      # calls are checked against their contracts.
      cppcheck --project="$build/compile_commands.json" -j "$jobs" --std=c++20 \
        --library=googletest --library=posix --library=openmp \
        --enable=warning,performance,portability,style --inline-suppr \
        --suppressions-list=.cppcheck-suppressions --error-exitcode=1 --quiet \
        --template='{file}:{line}: {severity}: {message} [{id}]' || status=1
      ;;
    shellcheck)
      # -x: follow the scripts' `source` of scripts/lib/*.sh.
      shellcheck -x scripts/*.sh scripts/lib/*.sh scripts/cluster/*.sh scripts/slurm/*.sbatch .ci/run \
        tests/*.sh tests/cluster/*.sh || status=1
      ;;
  esac
  stamp "$tool" "$t0"
done
[ $status -eq 0 ] && echo "lint: clean" || echo "lint: findings above (exit 1)" >&2
exit $status
