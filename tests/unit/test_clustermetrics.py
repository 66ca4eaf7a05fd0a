"""Other nodes' resource metrics as the API server reads them: the kubelet's
``/metrics/resource`` text back into readings (what ``metrics_prom`` writes, read again)."""

from __future__ import annotations

from kubelite.api.metrics import PodRef, Point, Samples, Scrape
from kubelite.api.metrics_prom import resource_exposition
from kubelite.clustermetrics import NodeReading, _NodeState, parse_resource_metrics


def test_the_kubelets_resource_metrics_read_back_as_readings() -> None:
    web = PodRef("default", "web", "uid-1")
    app = Point(timestamp=1700000010.5, start_time=1700000000.0, cpu_ns=250_000_000,
                memory_bytes=4096 * 1024)  # fmt: skip
    node = Point(timestamp=1700000010.25, start_time=1600000000.0, cpu_ns=12_000_000_000,
                 memory_bytes=1 << 30)  # fmt: skip
    text = resource_exposition(
        Scrape(node_name="m1", node=Samples(node), pods={web: {"app": Samples(app)}})
    ).decode()
    reading = parse_resource_metrics(text)
    assert reading.node == Point(1700000010.25, 0.0, 12_000_000_000, 1 << 30)
    assert reading.containers == {PodRef("default", "web", ""): {"app": app}}


def test_an_empty_scrape_has_no_readings() -> None:
    assert parse_resource_metrics(resource_exposition(None).decode()) == NodeReading()


def test_a_container_has_usage_from_its_first_scrape_and_a_node_from_its_second() -> None:
    ref = PodRef("default", "web", "")
    state = _NodeState()
    first = Point(100.0, 90.0, 1_000_000_000, 10)
    state.add(NodeReading(Point(100.0, 0.0, 5, 1), {ref: {"app": first}}))
    scrape = state.scrape("m1")
    assert scrape.pods[ref]["app"].prev == Point(90.0, 90.0, 0, 0)  # its start stands in
    assert scrape.node is not None and scrape.node.prev is None
    second = Point(110.0, 90.0, 2_000_000_000, 12)
    state.add(NodeReading(Point(110.0, 0.0, 9, 1), {ref: {"app": second}}))
    scrape = state.scrape("m1")
    assert scrape.pods[ref]["app"] == Samples(second, first)
    assert scrape.node is not None and scrape.node.prev == Point(100.0, 0.0, 5, 1)
    state.add(NodeReading(None, {}))
    assert state.scrape("m1").pods == {}  # its containers are gone
