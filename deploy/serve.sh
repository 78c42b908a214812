#!/usr/bin/env bash
# Serve the app to a class: N Streamlit replicas on loopback, Debian's nginx in front with sticky sessions.
#
#   deploy/serve.sh [N]          N replicas (default 2), nginx on 0.0.0.0:8501
#
# Environment: GENLAB_PORT (nginx's port, default 8501), GENLAB_LISTEN (nginx's address, default 0.0.0.0),
# GENLAB_REPLICA_PORT (the first replica's port, default 8601; the others follow it, on 127.0.0.1),
# GENLAB_RUN_DIR (nginx's config, pid, logs and temp files, and each replica's log; default a new temp dir),
# PYTHON (default python3), NGINX (default nginx, or /usr/sbin/nginx). GENLAB_THREADS defaults to the cores
# shared out among the replicas. Runs in the foreground; Ctrl-C or SIGTERM stops nginx and every replica.
# A replica that dies is taken out by nginx (its browsers reconnect to another) and is not restarted: a
# session moved off it would otherwise be sent back to it for its pictures once it answered again.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-2}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: deploy/serve.sh [number of replicas]" >&2
    exit 2
fi
PORT=${GENLAB_PORT:-8501}
LISTEN=${GENLAB_LISTEN:-0.0.0.0}
FIRST=${GENLAB_REPLICA_PORT:-8601}
PYTHON=${PYTHON:-python3}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then
    echo "nginx not found: apt-get install -y nginx (or set NGINX)" >&2
    exit 1
fi
RUN=${GENLAB_RUN_DIR:-$(mktemp -d -t genlab-serve.XXXXXX)}
mkdir -p "$RUN"
# As root, nginx's workers run as nobody: they must reach their temp dirs (nginx creates and chowns them).
if [ "$(id -u)" = 0 ]; then chmod 711 "$RUN"; fi
export GENLAB_THREADS=${GENLAB_THREADS:-$(( $(nproc) / N > 0 ? $(nproc) / N : 1 ))}
# Few malloc heaps, from the replicas' start: freed memory otherwise stays in a heap per script-run thread
# (inference/runtime.py, tune_malloc: the app cannot set this itself once the server has started its threads).
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}

children=()
stop() {
    trap - EXIT INT TERM
    if [ ${#children[@]} -gt 0 ]; then
        kill -TERM "${children[@]}" 2>/dev/null || true
        for _ in $(seq 50); do  # up to 5 s to exit cleanly, then killed
            alive=0
            for pid in "${children[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
            [ "$alive" = 1 ] || break
            sleep 0.1
        done
        kill -KILL "${children[@]}" 2>/dev/null || true
    fi
    if [ -n "${FRONTEND:-}" ]; then rm -rf "$FRONTEND"; fi
}
trap stop EXIT
trap 'exit 143' INT TERM  # exit runs stop

servers=""
declare -A replica_port
for ((i = 0; i < N; i++)); do
    port=$((FIRST + i))
    "$PYTHON" -m streamlit run streamlit_app.py --server.port "$port" --server.address 127.0.0.1 \
        --server.headless true --browser.gatherUsageStats false >"$RUN/replica-$port.log" 2>&1 &
    children+=($!)
    replica_port[$!]=$port
    echo "$!" >"$RUN/replica-$port.pid"
    servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'
done

# Streamlit's frontend files, which nginx serves itself (see the template): a world-readable copy in a temp dir of
# its own, since as root nginx's workers run as nobody, who may reach neither the installed package (under /root,
# say) nor $RUN. Removed on exit.
STATIC=$("$PYTHON" -c 'import os, streamlit; print(os.path.join(os.path.dirname(streamlit.__file__), "static", "static"))')
FRONTEND=$(mktemp -d -t genlab-frontend.XXXXXX)
cp -R "$STATIC" "$FRONTEND/static"
# And the browser component's files (app/live.py): its page, scripts and onnxruntime-web's WASM, and the ONNX files
# it fetches from exported/, some 30 MB for a first visit to Compare, which would otherwise go through a replica's
# Python for every new visitor. At the paths Streamlit's component route gives them.
mkdir -p "$FRONTEND/component/app.live.live" "$FRONTEND/component/app.live.exported"
cp -R app/browser/. "$FRONTEND/component/app.live.live/"
cp "${GENLAB_EXPORTED_DIR:-exported}"/*.onnx "$FRONTEND/component/app.live.exported/"
chmod -R a+rX "$FRONTEND"

config=$(<deploy/nginx.conf.template)
config=${config//@RUN_DIR@/$RUN}
config=${config//@FRONTEND@/$FRONTEND}
config=${config//@LISTEN@/$LISTEN:$PORT}
config=${config//@SERVERS@/${servers%$'\n'}}
printf '%s\n' "$config" >"$RUN/nginx.conf"
"$NGINX" -t -q -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log"

# nginx starts once every replica answers, so that its passive check does not take out one still starting.
"$PYTHON" - "$FIRST" "$N" <<'PY'
import sys, time, urllib.request
first, n = int(sys.argv[1]), int(sys.argv[2])
deadline = time.time() + 180
for port in range(first, first + n):
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            if time.time() > deadline:
                sys.exit(f"the replica on port {port} did not answer within 180 s")
            time.sleep(0.2)
PY

"$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" &
nginx_pid=$!
children+=("$nginx_pid")
echo "serving $N replicas on http://$LISTEN:$PORT (health: /_stcore/health; logs in $RUN)"

live=$N
while true; do
    wait -n -p done_pid || true
    if [ "${done_pid:-}" = "$nginx_pid" ]; then
        echo "nginx exited; stopping" >&2
        exit 1
    fi
    if [ -n "${done_pid:-}" ] && [ -n "${replica_port[$done_pid]:-}" ]; then
        live=$((live - 1))
        echo "the replica on port ${replica_port[$done_pid]} exited; $live left behind nginx" >&2
        if [ "$live" = 0 ]; then exit 1; fi
    fi
done
