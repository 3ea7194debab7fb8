#!/usr/bin/env bash
# The one command that runs every test: installs the Debian packages, builds
# chgate and its tests, and runs them, in parts:
#
#   plain  gcc, RelWithDebInfo, in build/: the Catch2 unit tests, then the
#          integration tests against a throwaway ClickHouse on free loopback ports
#   asan   clang with AddressSanitizer and UBSan, in build-asan/: the unit and
#          integration tests again (a sanitizer report fails the test)
#   tsan   clang with ThreadSanitizer, in build-tsan/: the unit tests (the
#          concurrent parts: queues, waiters, logs, buckets, the log writer)
#   fuzz   the libFuzzer targets of build-asan/, CHGATE_FUZZ_SECONDS (15) each
#          over their seed corpora (tests/fuzz/run.sh)
#
#   deploy/test.sh [extra ctest arguments, e.g. -R ingest]
# CHGATE_TEST_PARTS picks parts (default plain,asan,tsan,fuzz);
# CHGATE_SANITIZE=1 is CHGATE_TEST_PARTS=asan. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

"$root/deploy/install-deps.sh"
# The official ClickHouse JavaScript client, for the integration tests (npm).
if ! command -v npm >/dev/null; then
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends nodejs npm
fi
npm ci --prefix "$root/examples/clients/node" --no-audit --no-fund --loglevel=error >/dev/null

parts="${CHGATE_TEST_PARTS:-plain,asan,tsan,fuzz}"
if [[ "${CHGATE_SANITIZE:-0}" == 1 ]]; then parts=asan; fi
has() { [[ ",$parts," == *",$1,"* ]]; }
jobs="$(nproc)"
timing=()
started_all=$SECONDS

# Runs one part: its build, then its tests; records how long it took.
part() {
    local name="$1"
    shift
    local started=$SECONDS
    echo "test.sh: --- $name ---" >&2
    "$@"
    timing+=("$name $((SECONDS - started)) s")
}

build() {  # build DIR [cmake flags...] [-- targets...]
    local dir="$1" flags=() targets=()
    shift
    while (($#)) && [[ "$1" != -- ]]; do flags+=("$1"); shift; done
    if (($#)); then shift; for t in "$@"; do targets+=(--target "$t"); done; fi
    cmake -S . -B "$dir" "${flags[@]}" >/dev/null
    cmake --build "$dir" -j"$jobs" "${targets[@]}"
}

run_ctest() {  # run_ctest DIR [ctest args...]
    local dir="$1"
    shift
    # Unit tests in parallel; the integration tests one at a time, since they
    # measure timing on a small machine shared with ClickHouse.
    (cd "$dir" && ctest --output-on-failure -L unit -j"$jobs" "$@")
    (cd "$dir" && ctest --output-on-failure -L integration "$@")
}

plain() {
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    run_ctest build "$@"
}

build_asan() {  # clang, ASan and UBSan, with the fuzz targets
    CC=clang CXX=clang++ build build-asan -DCMAKE_BUILD_TYPE=Debug -DCHGATE_SANITIZE=ON \
        -DCHGATE_FUZZ=ON
}

asan() {
    build_asan
    run_ctest build-asan "$@"
}

tsan() {
    CC=clang CXX=clang++ build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHGATE_TSAN=ON \
        -- chgate_unit_tests
    (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
        ctest --output-on-failure -L unit -j"$jobs" "$@")
}

fuzz() {
    if [[ ! -x build-asan/tests/fuzz/fuzz_body ]]; then build_asan; fi
    "$root/tests/fuzz/run.sh" "${CHGATE_FUZZ_SECONDS:-15}" "$root/build-asan"
}

if has plain; then part plain plain "$@"; fi
if has asan; then part asan asan "$@"; fi
if has tsan; then part tsan tsan "$@"; fi
if has fuzz; then part fuzz fuzz; fi
echo "test.sh: all passed in $((SECONDS - started_all)) s: ${timing[*]/%/;}" >&2
