#!/usr/bin/env bash
# Runs the black-box acceptance suite against a fresh 3-node kubelite on etcd on this machine:
#
#   scripts/acceptance-cluster.sh [runner args...]      e.g. --only 'RS-*'   or   --fast
#
# In a throw-away directory it starts the stand-in registry, a 3-member etcd on 127.0.0.1,
# `kubelite up --no-agent --store etcd://...` and three machines (network namespaces on a LAN
# of the test's own, as the multi-node tests make them) whose agents join with tokens; then it
# runs the suite with node hooks that act on the node of the named pod, and always removes
# everything again. The work is done by devtools/acceptcluster.py (its docstring has the
# details). Installs nothing (run scripts/install-deps.sh first); needs root.
#
# Environment: ACCEPTANCE_DIR (the suite's directory, holding `run`; default ../shared/acceptance
# relative to the repository), KL_ACCEPT_KEEP=1 keeps the directory (logs) for inspection,
# KL_ACCEPT_NODES the number of machines (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing the pods do may leave this machine.
export KUBELITE_POD_EGRESS=false
exec python3 -m devtools.acceptcluster run "$@"
