"""Service defaulting, validation messages and ``get svc`` cells, as kube-apiserver 1.32 and
kubectl 1.32 produce them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.registry.service_defaults import (
    drop_type_dependent,
    init_ip_families,
    keep_allocated,
    normalize_cluster_ips,
    prepare_new,
    prepare_update,
)
from kubelite.registry.service_validation import (
    dns1035_label_errors,
    validate_service,
    validate_service_update,
)
from kubelite.registry.services import SERVICES


def svc(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def defaulted(**spec: Any) -> dict[str, Any]:
    s = svc(**spec)
    prepare_new(s)
    init_ip_families(s, None)
    return s


# -- defaulting ------------------------------------------------------------------------------
DEFAULTS = [
    (
        "a bare ClusterIP service gets type, affinity, traffic policy and port defaults",
        {"ports": [{"port": 80}]},
        {
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
        },
    ),
    (
        "a NodePort service also gets an external traffic policy",
        {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]},
        {
            "type": "NodePort",
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "externalTrafficPolicy": "Cluster",
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": "http"}],
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
        },
    ),
    (
        "a LoadBalancer service allocates node ports by default",
        {"type": "LoadBalancer", "ports": [{"port": 80, "protocol": "UDP"}]},
        {
            "type": "LoadBalancer",
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "externalTrafficPolicy": "Cluster",
            "allocateLoadBalancerNodePorts": True,
            "ports": [{"port": 80, "protocol": "UDP", "targetPort": 80}],
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
        },
    ),
    (
        "ClientIP affinity gets the three hour timeout",
        {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]},
        {
            "type": "ClusterIP",
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "internalTrafficPolicy": "Cluster",
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
        },
    ),
    (
        "a headless service without selector asks for both families",
        {"clusterIP": "None"},
        {
            "type": "ClusterIP",
            "clusterIP": "None",
            "clusterIPs": ["None"],
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "ipFamilyPolicy": "RequireDualStack",
            "ipFamilies": ["IPv4", "IPv6"],
        },
    ),
    (
        "an ExternalName service gets no IP family fields",
        {"type": "ExternalName", "externalName": "example.com"},
        {"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"},
    ),
]


@pytest.mark.parametrize(("case", "given", "want"), DEFAULTS, ids=[c[0] for c in DEFAULTS])
def test_defaults(case: str, given: dict[str, Any], want: dict[str, Any]) -> None:
    s = defaulted(**given)
    assert s["spec"] == want
    assert s["status"] == {"loadBalancer": {}}


def test_an_update_that_omits_allocated_values_keeps_them() -> None:
    old = defaulted(type="NodePort", ports=[{"name": "a", "port": 80}])
    old["spec"].update(clusterIP="10.96.0.5", clusterIPs=["10.96.0.5"])
    old["spec"]["ports"][0]["nodePort"] = 30080
    new = svc(type="NodePort", ports=[{"name": "a", "port": 80}])
    prepare_update(new, old)
    assert new["spec"]["clusterIPs"] == ["10.96.0.5"]
    assert new["spec"]["ports"][0]["nodePort"] == 30080


def test_switching_to_external_name_drops_the_cluster_ip_and_node_ports() -> None:
    old = defaulted(type="NodePort", ports=[{"port": 80}])
    old["spec"].update(clusterIP="10.96.0.5", clusterIPs=["10.96.0.5"])
    old["spec"]["ports"][0]["nodePort"] = 30080
    new = copy.deepcopy(old)
    new["spec"].update(type="ExternalName", externalName="example.com")
    drop_type_dependent(new, old)
    assert "clusterIP" not in new["spec"] and "ipFamilies" not in new["spec"]
    assert "nodePort" not in new["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in new["spec"]


def test_an_old_client_setting_only_cluster_ip_gets_cluster_ips() -> None:
    s = svc(clusterIP="10.96.0.7")
    normalize_cluster_ips(s, None)
    assert s["spec"]["clusterIPs"] == ["10.96.0.7"]


def test_a_patch_without_cluster_ips_keeps_them() -> None:
    old = svc(clusterIP="10.96.0.7", clusterIPs=["10.96.0.7"])
    new = svc(clusterIP="10.96.0.7")
    keep_allocated(new, old)
    normalize_cluster_ips(new, old)
    assert new["spec"]["clusterIPs"] == ["10.96.0.7"]


# -- validation ------------------------------------------------------------------------------
PORTS_80 = [{"port": 80, "protocol": "TCP", "targetPort": 80}]
INVALID = [
    (
        "a service needs ports",
        {},
        ["spec.ports: Required value"],
    ),
    (
        "a port must be in range",
        {"ports": [{"port": 0, "protocol": "TCP", "targetPort": 80}]},
        ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"],
    ),
    (
        "a named target port must be an IANA service name",
        {"ports": [{"port": 80, "protocol": "TCP", "targetPort": "Http_1"}]},
        [
            'spec.ports[0].targetPort: Invalid value: "Http_1": must contain only alpha-numeric '
            "characters (a-z, 0-9), and hyphens (-)"
        ],
    ),
    (
        "several ports need names",
        {"ports": [*PORTS_80, {"port": 81, "protocol": "TCP", "targetPort": 81}]},
        ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"],
    ),
    (
        "port names are unique",
        {
            "ports": [
                {"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
                {"name": "a", "port": 81, "protocol": "TCP", "targetPort": 81},
            ]
        },
        ['spec.ports[1].name: Duplicate value: "a"'],
    ),
    (
        "a port and protocol pair appears once",
        {
            "ports": [
                {"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
                {"name": "b", "port": 80, "protocol": "TCP", "targetPort": 81},
            ]
        },
        [
            'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
            "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, "
            'IntVal:0, StrVal:""}, NodePort:0}'
        ],
    ),
    (
        "the protocol is TCP, UDP or SCTP",
        {"ports": [{"port": 80, "protocol": "HTTP", "targetPort": 80}]},
        [
            'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", '
            '"TCP", "UDP"'
        ],
    ),
    (
        "the type is one of four",
        {"type": "Magic", "ports": PORTS_80},
        [
            'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", '
            '"ExternalName", "LoadBalancer", "NodePort"'
        ],
    ),
    (
        "a ClusterIP service has no node ports",
        {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30001}]},
        ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    ),
    (
        "the affinity timeout is at most a day",
        {
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 86401}},
            "ports": PORTS_80,
        },
        [
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be "
            "greater than 0 and less than 86400"
        ],
    ),
    (
        "an ExternalName service needs its name",
        {"type": "ExternalName"},
        ["spec.externalName: Required value"],
    ),
    (
        "a NodePort service cannot be headless",
        {"type": "NodePort", "clusterIP": "None", "clusterIPs": ["None"], "ports": PORTS_80},
        [
            "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort "
            "services"
        ],
    ),
    (
        "a cluster IP must be an address",
        {"clusterIP": "banana", "clusterIPs": ["banana"], "ports": PORTS_80},
        [
            'spec.clusterIPs[0]: Invalid value: "banana": must be a valid IP address, (e.g. '
            "10.9.8.7 or 2001:db8::ffff)"
        ],
    ),
    (
        "selector labels are checked",
        {"selector": {"app": "a b"}, "ports": PORTS_80},
        [
            'spec.selector: Invalid value: "a b": a valid label must be an empty string or '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
            "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        ],
    ),
]


@pytest.mark.parametrize(("case", "spec", "want"), INVALID, ids=[c[0] for c in INVALID])
def test_validation_messages(case: str, spec: dict[str, Any], want: list[str]) -> None:
    s = svc(**spec)
    prepare_new(s)
    assert [str(e) for e in validate_service(s)] == want


def test_a_defaulted_service_with_a_port_is_valid() -> None:
    assert validate_service(defaulted(ports=[{"port": 80}], selector={"app": "web"})) == []


def test_a_name_starting_with_a_digit_is_not_a_service_name() -> None:
    s = defaulted(ports=[{"port": 80}])
    s["metadata"]["name"] = "1web"
    assert [e.field for e in validate_service(s)] == ["metadata.name"]
    assert dns1035_label_errors("1web")[0].startswith("a DNS-1035 label must consist")


def test_the_cluster_ip_may_not_change() -> None:
    old = defaulted(clusterIP="10.96.0.5", ports=[{"port": 80}])
    new = copy.deepcopy(old)
    new["spec"].update(clusterIP="10.96.0.6", clusterIPs=["10.96.0.6"])
    assert [str(e) for e in validate_service_update(new, old)] == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.6"}: may not change once set'
    ]


def test_dual_stack_is_refused_on_this_cluster() -> None:
    s = svc(ipFamilyPolicy="RequireDualStack", ports=[{"port": 80}])
    prepare_new(s)
    assert [str(e) for e in init_ip_families(s, None)] == [
        'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured '
        "for dual-stack services"
    ]


# -- get svc ---------------------------------------------------------------------------------
CELLS = [
    (
        "a ClusterIP service",
        {"type": "ClusterIP", "clusterIPs": ["10.96.0.9"],
         "ports": [{"port": 80, "protocol": "TCP"}], "selector": {"b": "2", "a": "1"}},
        ["ClusterIP", "10.96.0.9", "<none>", "80/TCP", "a=1,b=2"],
    ),
    (
        "a NodePort service shows its node ports",
        {"type": "NodePort", "clusterIPs": ["10.96.0.9"],
         "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080},
                   {"port": 53, "protocol": "UDP", "nodePort": 30053}]},
        ["NodePort", "10.96.0.9", "<none>", "80:30080/TCP,53:30053/UDP", "<none>"],
    ),
    (
        "a LoadBalancer without an address is pending",
        {"type": "LoadBalancer", "clusterIPs": ["10.96.0.9"], "ports": []},
        ["LoadBalancer", "10.96.0.9", "<pending>", "<none>", "<none>"],
    ),
    (
        "an ExternalName service shows the name",
        {"type": "ExternalName", "externalName": "example.com"},
        ["ExternalName", "<none>", "example.com", "<none>", "<none>"],
    ),
    (
        "a headless service shows None",
        {"type": "ClusterIP", "clusterIPs": ["None"]},
        ["ClusterIP", "None", "<none>", "<none>", "<none>"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spec", "want"), CELLS, ids=[c[0] for c in CELLS])
def test_get_svc_cells(case: str, spec: dict[str, Any], want: list[str]) -> None:
    cells = SERVICES.cells(svc(**spec), 0)
    assert [cells[1], cells[2], cells[3], cells[4], cells[6]] == want


def test_get_svc_columns_are_kubectls() -> None:
    names = [c.name for c in SERVICES.columns()]
    assert names == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]
    assert [c.priority for c in SERVICES.columns()][-1] == 1
