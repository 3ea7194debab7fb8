# Helpers the deploy scripts share; sourced, not run.

# A free TCP port on 127.0.0.1 (free now; taken by whoever binds it first).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Whether the process whose PID PIDFILE holds is alive. A zombie (killed with
# -9, its parent not yet reaping it) is not: it holds no port and no files.
is_running() {
    [[ -f "$1" ]] || return 1
    local pid state
    pid="$(cat "$1")"
    kill -0 "$pid" 2>/dev/null || return 1
    # The state follows the command name, which is in parentheses and may hold spaces.
    state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ "$state" != Z ]]
}

# Stops the process in PIDFILE with SIGTERM and waits for it; after 30 s,
# SIGKILL. WHAT names it in the message.
stop_pidfile() {  # PIDFILE WHAT
    is_running "$1" || { rm -f "$1"; return 0; }
    local pid
    pid="$(cat "$1")"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
        sleep 0.1
    done
    echo "$2 did not stop within 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$1"
}
