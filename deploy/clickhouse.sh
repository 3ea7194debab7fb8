#!/usr/bin/env bash
# Runs a private ClickHouse server (Debian's clickhouse-server) on loopback,
# with every file under DIR. No systemd and no /var/lib/clickhouse involved.
#
#   deploy/clickhouse.sh start DIR [HTTP_PORT [TCP_PORT]] [--test]
#       Port 0 (the default) picks a free port. Writes DIR/http_port,
#       DIR/tcp_port and DIR/pid, and returns once the server answers.
#       A server already running from DIR is reused. --test is for the
#       integration tests: it logs queries (system.query_log) and adds a user
#       "chgate_test" with the password "chgate_test_password".
#       --https CERT KEY also serves HTTPS, on a free port written to
#       DIR/https_port, with that certificate and key.
#   deploy/clickhouse.sh stop DIR
#       Stops the server started from DIR and waits for it to exit.
#   deploy/clickhouse.sh url DIR
#       Prints http://127.0.0.1:PORT for the server started from DIR.
set -euo pipefail

die() { echo "clickhouse.sh: $*" >&2; exit 1; }

# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

ping() { curl -sf --max-time 2 "http://127.0.0.1:$1/ping" >/dev/null 2>&1; }

cmd_start() {
    local dir="$1" http_port="${2:-0}" tcp_port="${3:-0}" test_mode=0 https_cert="" https_key=""
    local args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
        [[ "${args[i]}" == "--test" ]] && test_mode=1
        if [[ "${args[i]}" == "--https" ]]; then
            https_cert="${args[i + 1]:-}" https_key="${args[i + 2]:-}"
            [[ -r "$https_cert" && -r "$https_key" ]] || die "--https needs a readable CERT and KEY"
        fi
    done
    [[ "$http_port" == --* ]] && http_port=0
    [[ "$tcp_port" == --* ]] && tcp_port=0
    local test_user=""
    if ((test_mode)); then
        test_user="<chgate_test><password>chgate_test_password</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></chgate_test>"
    fi
    command -v clickhouse-server >/dev/null || die "clickhouse-server is not installed (run deploy/install-deps.sh)"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if is_running "$dir/pid"; then
        echo "ClickHouse already running from $dir on port $(cat "$dir/http_port")" >&2
        return 0
    fi
    [[ "$http_port" == 0 ]] && http_port="$(free_port)"
    [[ "$tcp_port" == 0 ]] && tcp_port="$(free_port)"
    local https=""
    if [[ -n "$https_cert" ]]; then
        local https_port
        https_port="$(free_port)"
        echo "$https_port" >"$dir/https_port"
        https="<https_port>$https_port</https_port>
  <openSSL><server><certificateFile>$https_cert</certificateFile><privateKeyFile>$https_key</privateKeyFile>
    <verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile>
    <cacheSessions>true</cacheSessions><disableProtocols>sslv2,sslv3</disableProtocols></server></openSSL>"
    fi
    if ping "$http_port"; then
        die "port $http_port already answers; stop that server, or set CLICKHOUSE_URL to use it"
    fi
    mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
    cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/clickhouse-server.log</log>
    <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  $https
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>200</max_concurrent_queries>
  <keep_alive_timeout>30</keep_alive_timeout>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
XML
    cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <log_queries>$test_mode</log_queries>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    $test_user
  </users>
  <quotas>
    <default>
      <interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
XML
    echo "$http_port" >"$dir/http_port"
    echo "$tcp_port" >"$dir/tcp_port"
    # setsid: a Ctrl-C meant for chgate must not kill ClickHouse before chgate's last INSERT.
    setsid clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 300); do
        if ping "$http_port"; then
            echo "ClickHouse $(curl -s "http://127.0.0.1:$http_port/?query=SELECT%20version()") on 127.0.0.1:$http_port (data in $dir)" >&2
            return 0
        fi
        is_running "$dir/pid" || { tail -20 "$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log" >&2 || true; die "ClickHouse exited during start"; }
        sleep 0.1
    done
    die "ClickHouse did not answer within 30 s; see $dir/log"
}

cmd_stop() {
    stop_pidfile "$1/pid" "ClickHouse ($1)"
}

case "${1:-}" in
    start) shift; [[ $# -ge 1 ]] || die "usage: start DIR [HTTP_PORT [TCP_PORT]] [--test]"; cmd_start "$@" ;;
    stop) [[ $# -eq 2 ]] || die "usage: stop DIR"; cmd_stop "$2" ;;
    url) [[ $# -eq 2 ]] || die "usage: url DIR"; echo "http://127.0.0.1:$(cat "$2/http_port")" ;;
    *) die "usage: $0 start|stop|url DIR ..." ;;
esac
