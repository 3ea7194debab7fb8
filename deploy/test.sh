#!/usr/bin/env bash
# The one command that runs every test: installs the Debian packages, builds
# chgate with its tests, and runs them all through ctest: the Catch2 unit tests,
# and the integration tests against a throwaway ClickHouse on free loopback
# ports. Exits non-zero on any failure.
#
#   deploy/test.sh [extra ctest arguments, e.g. -R ingest]
# Set CHGATE_SANITIZE=1 to build and test under ASan and UBSan (in build-asan/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

"$root/deploy/install-deps.sh"

build="build"
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [[ "${CHGATE_SANITIZE:-0}" == 1 ]]; then
    build="build-asan"
    flags=(-DCMAKE_BUILD_TYPE=Debug -DCHGATE_SANITIZE=ON)
fi
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
# Unit tests in parallel; the integration tests one at a time, since they
# measure timing on a small machine shared with ClickHouse.
ctest --output-on-failure -L unit -j"$(nproc)" "$@"
ctest --output-on-failure -L integration "$@"
