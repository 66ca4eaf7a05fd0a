#!/usr/bin/env bash
# The README's main job: run one example pod with `kubelite run` and watch its lifecycle.
#
# There is no Docker Hub here, so the demo starts a throw-away local registry on 127.0.0.1
# holding the offline stand-in images (busybox, nginx; built from Debian packages) and points
# kubelite at it as the mirror for docker.io. Ctrl-C stops the pod gracefully; the registry
# is stopped on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLE=${1:-examples/init-and-sidecar.yaml}
DATA_DIR=${DATA_DIR:-/var/lib/kubelite}
PORT=${DEMO_REGISTRY_PORT:-5000}
TIMEOUT=${DEMO_TIMEOUT:-30}
WORK="$DATA_DIR/demo"
mkdir -p "$WORK"

python3 -m devtools.registry start --dir "$WORK/registry" --port "$PORT" >/dev/null
trap 'python3 -m devtools.registry stop --dir "$WORK/registry" >/dev/null 2>&1 || true' EXIT
python3 -m devtools.standins push --registry "127.0.0.1:$PORT" >/dev/null

cat > "$WORK/registries.yaml" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:$PORT"]
YAML

echo "running $EXAMPLE for ${TIMEOUT}s (Ctrl-C stops it sooner, gracefully)"
# The examples need nothing outside the machine: --no-pod-egress leaves the host's own
# forwarding switch alone (pods still get IPs, hostPorts and each other).
kubelite run --data-dir "$DATA_DIR" --registry-config "$WORK/registries.yaml" --no-pod-egress \
  --timeout "$TIMEOUT" "$EXAMPLE"
