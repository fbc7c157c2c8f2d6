#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with -sanitize=fuzzer,address, in .build/fuzz) and runs
# each for a fixed number of runs from its seed corpus (Tests/FuzzCorpus/<target>/) and the
# corpus earlier runs grew (.build/fuzz-corpus/<target>/). Any crash, leak, timeout (10 s on one
# input) or out-of-memory fails the script, with the input printed in hex; libFuzzer keeps it
# as .build/fuzz-artifacts/<target>-crash-… for a regression test.
#
# usage: scripts/fuzz.sh [TARGET…]          the default runs (the phase in `make test`)
#        RUNS=100000000 scripts/fuzz.sh …   a longer campaign: every named target RUNS times
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

# Default runs per target: ≥ 10⁶ for the envelope and sync decoders, together about 2 minutes here.
declare -A default_runs=(
  [FuzzEnvelope]=2000000 [FuzzSyncMessage]=2000000 [FuzzReconcile]=400000 [FuzzKeyText]=300000
  [FuzzTXTRecord]=300000 [FuzzInvite]=300000 [FuzzScreen]=150000 [FuzzNoise]=100000
  [FuzzSketch]=200000 [FuzzResidentMessage]=300000 [FuzzEnrolmentCode]=200000 [FuzzImage]=20000
  [FuzzTorReply]=300000
)
# Longest input per target: one sync message, one envelope, one TXT record…
declare -A max_len=(
  [FuzzEnvelope]=4200 [FuzzSyncMessage]=65535 [FuzzReconcile]=65535 [FuzzKeyText]=256
  [FuzzTXTRecord]=4096 [FuzzInvite]=256 [FuzzScreen]=65535 [FuzzNoise]=512
  [FuzzSketch]=65535 [FuzzResidentMessage]=4200 [FuzzEnrolmentCode]=1200 [FuzzImage]=16384
  [FuzzTorReply]=8192
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzEnvelope FuzzSyncMessage FuzzReconcile FuzzKeyText FuzzTXTRecord FuzzInvite FuzzScreen FuzzNoise FuzzSketch FuzzResidentMessage FuzzEnrolmentCode FuzzImage FuzzTorReply)

# The system's gold linker stops with an internal error on these binaries: link with the
# toolchain's lld.
mkdir -p .build
printf '{"schemaVersion": "1.0", "linker": {"path": "%s/ld.lld"}}\n' "$(dirname "$(command -v swift)")" > .build/fuzz-toolset.json
swift build -c release --package-path Fuzz --scratch-path .build/fuzz --toolset .build/fuzz-toolset.json \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -v "Cannot export local symbol" | tail -3
bin=.build/fuzz/release

status=0
passed=0
failed=0
for target in "${targets[@]}"; do
  [ -n "${default_runs[$target]:-}" ] || { echo "fuzz: no target $target" >&2; exit 64; }
  runs=${RUNS:-${default_runs[$target]}}
  corpus=.build/fuzz-corpus/$target
  artifacts=.build/fuzz-artifacts
  mkdir -p "$corpus" "$artifacts"
  log=$artifacts/$target.log
  start=$(date +%s%N)
  # Swift's own crash handler would walk the stack under ASan and be reported instead.
  if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 "$bin/$target" -runs="$runs" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$corpus" "Tests/FuzzCorpus/$target" >"$log" 2>&1; then
    executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    tenths=$(( ($(date +%s%N) - start) / 100000000 ))
    printf 'fuzz %-16s %10s runs in %4d.%d s, corpus %s inputs, no crash, leak or timeout\n' \
      "$target" "$executed" $((tenths / 10)) $((tenths % 10)) "$(ls "$corpus" | wc -l)"
    passed=$((passed + 1))
  else
    status=1
    failed=$((failed + 1))
    echo "fuzz $target FAILED; libFuzzer said:"
    grep -E "ERROR|SUMMARY|Fatal error|invariant broken|==[0-9]+==" "$log" | head -20
    for input in $(grep -o "Test unit written to [^ ]*" "$log" | awk '{print $5}'); do
      echo "input ($input), hex:"
      od -An -tx1 -v "$input" | tr -d ' \n'; echo
    done
  fi
done
echo "fuzz: $passed passed, $failed failed"
exit $status
