#!/usr/bin/env bash
# Builds the peers chgate is measured against (loadtest/bench.sh --peers) from
# source checkouts you bring: they are not Debian packages, and nothing is
# downloaded here. Their Go dependencies come from Debian's golang-*-dev
# packages, built in GOPATH mode (GO111MODULE=off), so no module proxy is used.
#
#   loadtest/peers/build.sh --kittenhouse DIR --clickhouse-bulk DIR \
#                           --go-datastructures DIR [--out DIR]
#
#   --kittenhouse DIR        a checkout of github.com/VKCOM/kittenhouse
#   --clickhouse-bulk DIR    a checkout of github.com/nikepan/clickhouse-bulk
#   --go-datastructures DIR  a checkout of github.com/nikepan/go-datastructures
#                            (clickhouse-bulk's queue)
#   --out DIR                where the binaries go (default build-peers/)
#
# kittenhouse imports five helpers from github.com/vkcom/engine-go/srvfunc,
# which is not to be had; loadtest/peers/srvfunc/ stands in for them (a plain
# dialer, log reopening, RSS from /proc; no user or group switching).
# build-peers/VERSIONS records the commit of each checkout, and the report
# quotes it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/build-peers"
kh="" cb="" ds=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --kittenhouse) kh="$2"; shift 2 ;;
    --clickhouse-bulk) cb="$2"; shift 2 ;;
    --go-datastructures) ds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$kh" && -z "$cb" ]]; then
    echo "build.sh: give --kittenhouse DIR and/or --clickhouse-bulk DIR (see --help)" >&2
    exit 2
fi
if [[ -n "$cb" && -z "$ds" ]]; then
    echo "build.sh: clickhouse-bulk needs --go-datastructures DIR" >&2
    exit 2
fi
apt-get install -y -q golang-go golang-github-valyala-fasthttp-dev golang-github-labstack-echo-dev \
    golang-github-prometheus-client-golang-dev >/dev/null

gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
src="$gopath/src/github.com"
copy() { # copy SRC_DIR DEST: the files of a checkout, without .git
    mkdir -p "$2"
    tar -C "$1" --exclude=.git -cf - . | tar -C "$2" -xf -
}
commit() { git -C "$1" log -1 --format='%h (%ad)' --date=short 2>/dev/null || echo "not a git checkout"; }
mkdir -p "$out"
: >"$out/VERSIONS"
build() { # build NAME PACKAGE_DIR
    (cd "$2" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$gopath/cache" \
        GOFLAGS= go build -o "$out/$1" .)
    echo "built $out/$1"
}
if [[ -n "$kh" ]]; then
    copy "$kh" "$src/vkcom/kittenhouse"
    mkdir -p "$src/vkcom/engine-go/srvfunc"
    cp "$root/loadtest/peers/srvfunc/srvfunc.go" "$src/vkcom/engine-go/srvfunc/"
    build kittenhouse "$src/vkcom/kittenhouse"
    echo "kittenhouse $(commit "$kh"), engine-go/srvfunc from loadtest/peers/srvfunc" >>"$out/VERSIONS"
fi
if [[ -n "$cb" ]]; then
    copy "$cb" "$src/nikepan/clickhouse-bulk"
    copy "$ds" "$src/nikepan/go-datastructures"
    # Debian's echo is v4 under the old import path; GOPATH mode needs the /v4 one.
    mkdir -p "$src/labstack/echo"
    ln -s /usr/share/gocode/src/github.com/labstack/echo "$src/labstack/echo/v4"
    build clickhouse-bulk "$src/nikepan/clickhouse-bulk"
    echo "clickhouse-bulk $(commit "$cb"), go-datastructures $(commit "$ds")" >>"$out/VERSIONS"
fi
echo "Go $(go version | cut -d' ' -f3), Debian's libraries: fasthttp $(dpkg-query -W -f='${Version}' \
    golang-github-valyala-fasthttp-dev), echo $(dpkg-query -W -f='${Version}' golang-github-labstack-echo-dev), \
prometheus client $(dpkg-query -W -f='${Version}' golang-github-prometheus-client-golang-dev)" >>"$out/VERSIONS"
cat "$out/VERSIONS"
