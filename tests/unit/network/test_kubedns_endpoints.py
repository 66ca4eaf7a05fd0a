"""Several nodes publish their DNS servers in the one kube-dns Endpoints: each adds and
removes only its own address, so two agents never undo each other's."""

from __future__ import annotations

from kubelite.network.clusterdns import subsets_with, subsets_without

PORTS = [{"name": "dns", "port": 53, "protocol": "UDP"},
         {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]  # fmt: skip


def test_a_node_adds_its_address_beside_the_others() -> None:
    first = subsets_with([], "n1", "10.0.1.1", 53)
    both = subsets_with(first, "n2", "10.0.2.1", 53)
    addresses = [{"ip": "10.0.1.1", "nodeName": "n1"}, {"ip": "10.0.2.1", "nodeName": "n2"}]
    assert both == [{"addresses": addresses, "ports": PORTS}]
    assert subsets_with(both, "n1", "10.0.1.1", 53) == both  # already there: nothing to write


def test_a_moved_address_replaces_the_nodes_old_one() -> None:
    both = subsets_with(subsets_with([], "n1", "10.0.1.1", 53), "n2", "10.0.2.1", 53)
    moved = subsets_with(both, "n1", "10.0.9.1", 53)
    assert [a["ip"] for a in moved[0]["addresses"]] == ["10.0.2.1", "10.0.9.1"]


def test_a_node_that_stops_takes_only_its_own_address_away() -> None:
    both = subsets_with(subsets_with([], "n1", "10.0.1.1", 53), "n2", "10.0.2.1", 53)
    assert subsets_without(both, "n1", 53) == [
        {"addresses": [{"ip": "10.0.2.1", "nodeName": "n2"}], "ports": PORTS}
    ]
    assert subsets_without(subsets_without(both, "n1", 53), "n2", 53) == []
