"""Which UDP conntrack entries go stale when a Service's endpoints change (kube-proxy's
clean-up): flows to removed endpoints, and everything to a port that had none."""

from __future__ import annotations

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.conntrack import Flush, stale, udp_table

SVC = ServiceView.of(
    {
        "metadata": {"namespace": "kube-system", "name": "kube-dns"},
        "spec": {
            "clusterIP": "10.96.0.10",
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
            ],
        },
    }
)


def slice_(*ips: str) -> EndpointSliceView:
    return EndpointSliceView.of(
        {
            "metadata": {
                "namespace": "kube-system", "name": "kube-dns-x",
                "labels": {"kubernetes.io/service-name": "kube-dns"},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
            ],
        }
    )  # fmt: skip


def test_only_udp_ports_are_tracked() -> None:
    assert udp_table([SVC], [slice_("10.244.0.5")]) == {
        ("10.96.0.10", 53): frozenset({"10.244.0.5"})
    }


def test_a_removed_endpoint_has_its_flows_flushed() -> None:
    before = udp_table([SVC], [slice_("10.244.0.5", "10.244.0.6")])
    after = udp_table([SVC], [slice_("10.244.0.6")])
    assert stale(before, after) == [Flush("10.96.0.10", 53, "10.244.0.5")]


def test_a_port_that_had_no_endpoints_has_all_its_flows_flushed() -> None:
    before = udp_table([SVC], [])
    after = udp_table([SVC], [slice_("10.244.0.5")])
    assert stale(before, after) == [Flush("10.96.0.10", 53)]
    assert Flush("10.96.0.10", 53).argv() == [
        "conntrack", "-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53",
    ]  # fmt: skip


def test_a_new_service_or_an_unchanged_one_flushes_nothing() -> None:
    after = udp_table([SVC], [slice_("10.244.0.5")])
    assert stale({}, after) == []
    assert stale(after, after) == []


def test_a_deleted_service_has_the_flows_to_its_endpoints_flushed() -> None:
    before = udp_table([SVC], [slice_("10.244.0.5")])
    assert stale(before, {}) == [Flush("10.96.0.10", 53, "10.244.0.5")]
