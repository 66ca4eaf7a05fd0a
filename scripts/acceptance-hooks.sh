#!/usr/bin/env bash
# The acceptance suite's node hooks for a kubelite started by scripts/acceptance.sh:
#
#   acceptance-hooks.sh stop          stop the node agent (containers and API server keep running)
#   acceptance-hooks.sh start         start the node agent; return once it serves again
#   acceptance-hooks.sh restart       stop, then start
#   acceptance-hooks.sh kill-sandbox  kill the pod's containers and sandbox ($ACCEPT_POD_UID)
#   acceptance-hooks.sh rm-exited     remove the pod's exited container records ($ACCEPT_POD_UID)
#
# Everything it needs comes from the environment acceptance.sh exports: KL_ACCEPT_DIR (the
# data dir; the agent's PID file and log live in it), KL_ACCEPT_SERVER (the API server URL),
# KL_ACCEPT_REGISTRY_CONFIG and KUBECONFIG. The agent is stopped by its PID only.
set -euo pipefail

: "${KL_ACCEPT_DIR:?set by scripts/acceptance.sh}"
D=$KL_ACCEPT_DIR
PID_FILE="$D/agent.pid"
LOG="$D/agent.log"
STOP_TIMEOUT=${KL_ACCEPT_STOP_TIMEOUT:-30}
START_TIMEOUT=${KL_ACCEPT_START_TIMEOUT:-60}

log() { echo "acceptance-hooks: $*" >&2; }

is_agent() {  # is PID $1 alive and still a kubelite agent?
  local pid=$1
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kubelite agent"
}

stop_agent() {
  local pid waited=0
  pid=$(cat "$PID_FILE" 2>/dev/null || true)
  if [ -z "$pid" ] || ! is_agent "$pid"; then
    log "agent not running"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while is_agent "$pid" && [ "$waited" -lt "$((STOP_TIMEOUT * 10))" ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if is_agent "$pid"; then
    log "agent $pid still running after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while is_agent "$pid"; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  log "agent $pid stopped"
}

start_agent() {
  local pid before waited=0
  if [ -s "$PID_FILE" ] && is_agent "$(cat "$PID_FILE")"; then
    log "agent already running"
    return 0
  fi
  touch "$LOG"
  before=$(grep -c " serving " "$LOG" || true)
  # Its own session, stdin/stdout/stderr away from the hook's pipes: the agent outlives the hook.
  setsid kubelite agent --data-dir "$D" --server "$KL_ACCEPT_SERVER" \
    --registry-config "$KL_ACCEPT_REGISTRY_CONFIG" --log-level "${KL_ACCEPT_LOG_LEVEL:-INFO}" \
    </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  while [ "$(grep -c " serving " "$LOG" || true)" -le "$before" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "agent exited during start-up; its log ends with:"
      tail -n 20 "$LOG" >&2
      return 1
    fi
    if [ "$waited" -ge "$((START_TIMEOUT * 10))" ]; then
      log "agent did not serve within ${START_TIMEOUT}s"
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "agent $pid serving"
}

need_uid() { : "${ACCEPT_POD_UID:?the hook needs ACCEPT_POD_UID}"; }

case "${1:-}" in
  stop) stop_agent ;;
  start) start_agent ;;
  restart) stop_agent && start_agent ;;
  kill-sandbox) need_uid && kubelite runtime --data-dir "$D" kill-pod "$ACCEPT_POD_UID" ;;
  rm-exited) need_uid && kubelite runtime --data-dir "$D" rm-exited "$ACCEPT_POD_UID" ;;
  *)
    echo "usage: $0 stop|start|restart|kill-sandbox|rm-exited" >&2
    exit 2
    ;;
esac
