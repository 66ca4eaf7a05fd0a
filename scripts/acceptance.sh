#!/usr/bin/env bash
# Runs the black-box acceptance suite against a fresh kubelite on this machine:
#
#   scripts/acceptance.sh [runner args...]      e.g. --only 'RS-*'   or   --fast
#
# It starts, in a throw-away data dir: a local stand-in registry (mirror of docker.io), the
# API server (`kubelite up --no-agent`) and the node agent (`kubelite agent`) as separate
# background processes with PID files, waits for the node to be Ready, points the suite's node
# hooks at scripts/acceptance-hooks.sh, runs the suite with the given arguments, and always
# cleans up: agent, API server and registry stopped by PID, every pod sandbox torn down, mounts
# undone and the data dir removed. Installs nothing (run scripts/install-deps.sh first).
#
# Environment: ACCEPTANCE_DIR (the suite's directory, holding `run`; default ../shared/acceptance
# relative to the repository), KL_ACCEPT_KEEP=1 keeps the data dir for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SUITE_DIR=${ACCEPTANCE_DIR:-$REPO/../shared/acceptance}
RUNNER="$SUITE_DIR/run"
if [ ! -f "$RUNNER" ]; then
  echo "acceptance.sh: no acceptance runner at $RUNNER (set ACCEPTANCE_DIR)" >&2
  exit 2
fi

# Nothing the pods do may leave this machine (the API server and the agent both read it).
export KUBELITE_POD_EGRESS=false

D=$(mktemp -d "${TMPDIR:-/tmp}/kubelite-accept.XXXXXX")
D=$(cd "$D" && pwd -P)
REG_DIR="$D/registry"
REG_CONFIG="$D/registries.yaml"
KUBECONFIG_FILE="$D/kubeconfig"
API_PID_FILE="$D/apiserver.pid"

say() { echo "acceptance.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_pid_file() {  # stop the process in PID file $1 (if it is still "$2"): TERM, wait, KILL
  local file=$1 pattern=$2 pid waited=0
  pid=$(cat "$file" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  alive() { [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$pattern"; }
  if alive; then
    kill -TERM "$pid" 2>/dev/null || true
    while alive && [ "$waited" -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
    if alive; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  say "cleaning up"
  KL_ACCEPT_DIR=$D "$REPO/scripts/acceptance-hooks.sh" stop 2>/dev/null
  stop_pid_file "$API_PID_FILE" "kubelite up"
  python3 -m devtools.registry stop --dir "$REG_DIR" >/dev/null 2>&1
  # Every sandbox this kubelite made (containers, network namespaces, cgroups, mounts), then
  # its pod network (bridge, Service range sink, nftables table, CNI state).
  kubelite runtime --data-dir "$D" reset >/dev/null 2>&1
  # Anything still mounted below the data dir (deepest first), then the data dir itself.
  awk -v d="$D" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  python3 - "$D" <<'PY'
import hashlib, sys
from pathlib import Path
# The pod cgroups' parent, named after the data dir (kubelite.runtime.cgroups.PodCgroups).
root = "kubelite-" + hashlib.sha256(str(Path(sys.argv[1]).resolve()).encode()).hexdigest()[:12]
for base in Path("/sys/fs/cgroup").glob("**/" + root) if Path("/sys/fs/cgroup").exists() else []:
    for p in sorted(base.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if p.is_dir():
            try: p.rmdir()
            except OSError: pass
    try: base.rmdir()
    except OSError: pass
PY
  if [ "${KL_ACCEPT_KEEP:-0}" = 1 ]; then
    say "kept $D"
  else
    rm -rf "$D"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The stand-in registry, mirroring docker.io.
REG_PORT=$(free_port)
python3 -m devtools.registry start --dir "$REG_DIR" --port "$REG_PORT" >/dev/null
python3 -m devtools.standins push --registry "127.0.0.1:$REG_PORT" >/dev/null
cat >"$REG_CONFIG" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:$REG_PORT"]
YAML
say "registry on 127.0.0.1:$REG_PORT, data dir $D"

# 2. The API server (and scheduler), without an agent.
API_PORT=$(free_port)
setsid kubelite up --no-agent --data-dir "$D" --port "$API_PORT" \
  --kubeconfig-out "$KUBECONFIG_FILE" --log-level WARNING \
  </dev/null >>"$D/apiserver.log" 2>&1 &
echo $! >"$API_PID_FILE"
for _ in $(seq 1 300); do
  [ -s "$KUBECONFIG_FILE" ] && grep -q "listening on" "$D/apiserver.log" && break
  kill -0 "$(cat "$API_PID_FILE")" 2>/dev/null || { tail -n 20 "$D/apiserver.log" >&2; exit 1; }
  sleep 0.1
done
export KUBECONFIG=$KUBECONFIG_FILE

# 3. The node agent, through the same hook the suite uses to restart it.
export KL_ACCEPT_DIR=$D
export KL_ACCEPT_SERVER="https://127.0.0.1:$API_PORT"
export KL_ACCEPT_REGISTRY_CONFIG=$REG_CONFIG
HOOKS="$REPO/scripts/acceptance-hooks.sh"
"$HOOKS" start
for i in $(seq 1 120); do
  ready=$(kubectl get nodes -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}' \
    2>/dev/null || true)
  [ "$ready" = "True" ] && break
  [ "$i" -lt 120 ] || { say "node not Ready after 60s"; exit 1; }
  sleep 0.5
done
say "node Ready; API server $KL_ACCEPT_SERVER"

# 4. The suite, with its node hooks.
export ACCEPT_RESTART_AGENT_CMD="'$HOOKS' restart"
export ACCEPT_STOP_AGENT_CMD="'$HOOKS' stop"
export ACCEPT_START_AGENT_CMD="'$HOOKS' start"
export ACCEPT_KILL_POD_SANDBOX_CMD="'$HOOKS' kill-sandbox"
export ACCEPT_REMOVE_EXITED_CONTAINERS_CMD="'$HOOKS' rm-exited"
set +e
python3 "$RUNNER" --kubeconfig "$KUBECONFIG_FILE" "$@"
rc=$?
set -e
exit "$rc"
