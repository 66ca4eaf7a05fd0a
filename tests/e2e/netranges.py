"""Address ranges for one test kubelite: a pod /24 and a Service /24 that no other network on
this machine uses, drawn at random from 10.200.0.0/13, away from kubelite's defaults
(10.244.0.0/16, 10.96.0.0/16), so tests never share a subnet with each other or with a
kubelite a person runs here. Every test kubelite also runs with ``--no-pod-egress``.
"""

from __future__ import annotations

import ipaddress
import random
import subprocess
from dataclasses import dataclass

POOL = ipaddress.IPv4Network("10.200.0.0/13")


@dataclass(frozen=True, slots=True)
class Ranges:
    pod_cidr: str
    service_cidr: str

    def flags(self) -> tuple[str, ...]:
        return (
            "--pod-cidr", self.pod_cidr, "--service-cidr", self.service_cidr, "--no-pod-egress",
        )  # fmt: skip


def _routed() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(
        ["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True, check=False
    ).stdout
    nets = []
    for line in out.splitlines():
        words = line.split()
        if not words:
            continue
        dest = (
            words[1] if words[0] in ("blackhole", "unreachable", "local", "broadcast") else words[0]
        )
        try:
            nets.append(ipaddress.IPv4Network(dest, strict=False))
        except ValueError:
            continue
    return nets


def unique_ranges() -> Ranges:
    used = _routed()
    subnets: list[ipaddress.IPv4Network] = list(POOL.subnets(new_prefix=24))
    while True:
        pod, svc = random.sample(subnets, 2)
        if not any(pod.overlaps(n) or svc.overlaps(n) for n in used if n.prefixlen > 0):
            return Ranges(str(pod), str(svc))
