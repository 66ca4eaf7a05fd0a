#!/usr/bin/env bash
# Installs everything kubelite and its tests need on Debian 12, as root. Safe to run twice:
# it installs only what is missing, and pip leaves an up-to-date package alone.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  runc conmon skopeo umoci          # the runtime and image tools kubelite drives
  docker-registry                   # the local registry the tests and the demo start on 127.0.0.1
  busybox-static nginx-light        # offline stand-in images: nginx; the busybox source to build
  tzdata                            # the busybox stand-in's /etc/localtime (UTC)
  gcc make libc6-dev linux-libc-dev # to build that busybox (static, upstream's defconfig)
  dpkg-dev bzip2 xz-utils           # apt-get source / dpkg-source -x of its Debian package
  iproute2 iptables util-linux procps psmisc
  containernetworking-plugins       # CNI bridge/host-local/portmap, for the pod network
  nftables                          # the Service proxy's rules (kube-proxy's nftables mode)
  conntrack                         # stale UDP flows cleared when Service endpoints change
  podman                            # baseline for the benchmarks (podman kube play)
  etcd-server etcd-client           # the etcd store (kubelite up --store etcd://…) and its tests
  chromium                          # the web view's browser tests (Playwright drives this one)
  curl jq
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's nginx package starts a server on :80 when it is installed; keep it from starting.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
  # etcd-server enables a system etcd on 127.0.0.1:2379; the tests start their own members.
  if [[ " ${missing[*]} " == *" etcd-server "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
fi

# The e2e tests drive the real kubectl (1.32). This machine kind ships it as a Debian package;
# install it where a configured apt source has it, else say what is missing.
if ! command -v kubectl >/dev/null; then
  apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1 || {
    echo "install-deps: kubectl (1.32) is needed by the e2e tests and no apt source has it" >&2
    exit 1
  }
fi

PY=${PYTHON:-python3}
"$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
