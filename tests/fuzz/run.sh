#!/usr/bin/env bash
# Runs every libFuzzer target over its seed corpus for SECONDS each (default 30),
# and prints a line per target: executions, executions per second, coverage
# (edges) and corpus size. Exits non-zero if a target finds a crash, a leak
# or a timeout; the input is left in the artifacts directory it names.
#
#   tests/fuzz/run.sh [SECONDS] [BUILD_DIR] [TARGET ...]
# BUILD_DIR is a clang build with -DCHGATE_FUZZ=ON -DCHGATE_SANITIZE=ON
# (deploy/test.sh makes build-asan/). The seeds in tests/fuzz/corpus are read,
# never written: what a run finds goes to a temporary corpus.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-30}"
build="${2:-$root/build-asan}"
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(body content_decoding insert_query url_query config wal_replay stored_files http shard_key
        row_check)
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/chgate-fuzz-XXXXXX")"
artifacts="$work/artifacts"
mkdir -p "$artifacts"
failed=0
printf '%-18s %12s %10s %8s %8s\n' target executions exec/s edges corpus
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/fuzz_$t"
    [[ -x "$bin" ]] || { echo "run.sh: $bin is not built" >&2; exit 2; }
    corpus="$work/corpus-$t"
    mkdir -p "$corpus"
    # An input of the http target may wait for timeouts (200 ms each).
    max_len=65536
    log="$work/$t.log"
    status=0
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$corpus" "$root/tests/fuzz/corpus/$t" \
        >"$log" 2>&1 || status=$?
    execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)"
    rate=$(( ${execs:-0} / seconds ))
    edges="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
    files="$(find "$corpus" -type f | wc -l)"
    printf '%-18s %12s %10s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${edges:-?}" "$files"
    if ((status != 0)); then
        failed=1
        echo "run.sh: fuzz_$t failed (exit $status); its log:" >&2
        grep -v '^#' "$log" | tail -40 >&2
    fi
done
if ((failed)); then
    echo "run.sh: failing inputs are in $artifacts" >&2
    exit 1
fi
rm -rf "$work"
