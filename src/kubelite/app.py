"""The composition root: one place that builds kubelite's parts and owns their lifetimes.

``kubelite up`` runs an API server (SQLite store, or etcd), a scheduler, the controllers and a
node agent in one process. The agent reaches the API only as a client, over HTTPS with the
server's CA and bearer token, exactly as it would reach any Kubernetes API server; the API
reaches the node only through the log/exec backends. Shutdown order: agent first (containers
keep running), then scheduler, then the API server and its store. With the store on etcd,
several ``kubelite up`` serve one cluster: each runs the scheduler and the controllers only
while it holds their leader-election Lease, and heartbeats an identity Lease from which every
server keeps the ``kubernetes`` Service's endpoints listing the live ones.

``kubelite agent`` runs a node agent alone: on the machine of ``kubelite up`` with its
credentials, or on another one that joins with a bootstrap token (``joining``,
``agent.tlsbootstrap``: discovery, a CSR, then its own client certificate, renewed as it ages).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from kubelite import joining
from kubelite.agent.apiclient import ApiNodeClient, Endpoint
from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.node import Node, NodeAgent, build_node, node_facts
from kubelite.agent.noderecord import node_object
from kubelite.agent.tlsbootstrap import CertificateManager, Join, bootstrap
from kubelite.api.assembly import build_api_server, endpoint
from kubelite.api.nodeconn import NodeConnector
from kubelite.api.pki import CaSigner, Pki, ServingNames, ensure_pki
from kubelite.api.server import ApiServer
from kubelite.client.informer import Informer
from kubelite.client.rest import ENDPOINT_SLICES, NAMESPACES, SERVICES, ApiClient, Credentials
from kubelite.clock import Clock, SystemClock
from kubelite.clustermetrics import OtherNodesMetrics
from kubelite.controllers.apiserverendpoints import IdentityTiming, ServerAddress
from kubelite.controllers.apiserverleases import ApiServerLeases
from kubelite.controllers.bootstrapsigner import BootstrapSigner
from kubelite.controllers.cronjob import CronJobController
from kubelite.controllers.csrapproving import CsrApprovingController
from kubelite.controllers.csrsigning import CsrSigningController
from kubelite.controllers.eventrecorder import EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.job import JobController
from kubelite.controllers.joinsetup import ensure_join_setup
from kubelite.controllers.leaderdecisions import ElectionTiming
from kubelite.controllers.leaderelection import LeaderElector, Work
from kubelite.controllers.localpathcontroller import LocalPathProvisioner
from kubelite.controllers.nodeipam import NodeIpamController
from kubelite.controllers.nodeipamcidrs import CidrSet, cidr_set, effective_mask
from kubelite.controllers.nodelifecycle import GRACE_PERIOD, GracePeriods, NodeLifecycleController
from kubelite.controllers.pvbindercontroller import PersistentVolumeController
from kubelite.controllers.rootca import RootCAPublisher
from kubelite.controllers.serveridentity import ServerIdentity
from kubelite.controllers.serviceendpoints import ServiceEndpointsController
from kubelite.controllers.statefulsetcontroller import StatefulSetController
from kubelite.controllers.tainteviction import TaintEvictionController
from kubelite.controllers.tokencleaner import TokenCleaner
from kubelite.controllers.workloads import WorkloadControllers
from kubelite.errors import KubeliteError
from kubelite.network.clusterdns import ClusterDns
from kubelite.network.layout import NetworkLayout
from kubelite.network.nodenetwork import NODES, wait_for_pod_cidr
from kubelite.network.podcidr import registered_not_ready
from kubelite.network.proxy import ServiceProxy
from kubelite.network.proxyrules import ProxyConfig
from kubelite.network.routes import RouteSync
from kubelite.nodemetrics import NodeMetrics
from kubelite.nodeserver.setup import ServingOptions, node_server, with_kubelet_port
from kubelite.nodestreams import NodeStreams
from kubelite.podfailures import report_pod_failures
from kubelite.scheduler import Scheduler
from kubelite.settings import Settings
from kubelite.store.etcdconfig import EtcdConfig

log = logging.getLogger(__name__)

LEADER_NAMESPACE = "kube-system"


@dataclass(frozen=True, slots=True)
class UpOptions:
    host: str = "127.0.0.1"
    port: int = 6443
    agent: bool = True  # False: API server and scheduler only (logs/exec still served)
    etcd: EtcdConfig | None = None  # the store on etcd (``--store etcd://…``), else SQLite
    node_monitor_grace_period: float = GRACE_PERIOD  # --node-monitor-grace-period
    node_cidr_mask_size: int | None = None  # --node-cidr-mask-size (None: 24, see nodeipam)
    # Several servers on one etcd: leader election's and the identity Leases' durations.
    election: ElectionTiming = dataclasses.field(default_factory=ElectionTiming)
    apiserver_leases: IdentityTiming = dataclasses.field(default_factory=IdentityTiming)


def _serving_names(settings: Settings, host: str) -> ServingNames:
    """What the serving certificate must name: pods' ways to the API, and the addresses
    other machines reach it at."""
    layout = NetworkLayout.from_settings(settings)
    names = ServingNames.for_cluster(
        cluster_domain=layout.cluster_domain,
        api_service_ip=str(layout.api_service_ip),
        gateway=str(layout.gateway),
    )
    return names.plus(ips=joining.reachable_addresses(host))


async def run_up(
    settings: Settings,
    options: UpOptions,
    *,
    stop: asyncio.Event,
    on_ready: Callable[[ApiServer], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve until ``stop`` is set. Raises OSError if the port cannot be bound."""
    clock = clock or SystemClock()
    settings.make_data_dir()  # 0700: the store and the PKI hold secrets
    # Without the agent the node's logs and exec are still served from this machine (a
    # separate ``kubelite agent`` on the same data dir runs the pods); only the agent owns it.
    cidrs = _pod_ranges(settings, options)
    node = await build_node(settings, clock=clock, owner=options.agent, network_later=True)
    streams = NodeStreams(runtime=node.runtime, pod_logs_dir=settings.pod_logs_dir, clock=clock)
    pki = ensure_pki(settings.pki_dir, _serving_names(settings, options.host))
    server = build_api_server(
        settings, host=options.host, port=options.port, clock=clock, logs=streams,
        exec_backend=streams, etcd=options.etcd,
    )  # fmt: skip
    metrics = NodeMetrics(runtime=node.runtime, clock=clock, node_name=settings.node_name)
    server.set_backends(metrics=metrics)  # metrics.k8s.io and /metrics/resource
    kubelets, others = _other_nodes(server, pki, settings, clock)
    controllers: ApiClient | None = None
    advertised = _advertise_address(options.host)
    if advertised is not None:  # the kubernetes Service's endpoint: reached from every node
        server.pod_gateway = advertised
    try:
        await server.start()
        ep = endpoint(settings, server)
        if not joining.is_wildcard(options.host):  # listening there only, not on loopback
            ep = dataclasses.replace(ep, url=f"https://{options.host}:{server.port}")
        client = ApiClient(
            Credentials(ep.url, ep.ca_cert, ep.token), user_agent="kubelite-controller-manager"
        )
        controllers = client
        await _join_setup(
            client, joining.advertised_url(options.host, server.port), pki.ca_cert.read_bytes()
        )
        grace = GracePeriods(monitor=options.node_monitor_grace_period)

        def scheduler() -> Coroutine[Any, Any, None]:
            return Scheduler(registry=server.registry).run()

        ca_pem = ep.ca_cert.read_text()

        def manager() -> Coroutine[Any, Any, None]:
            return _controller_manager(client, settings, ca_pem, pki, clock, grace, cidrs)

        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(metrics.run()),
                tg.create_task(report_pod_failures(server.registry)),
                tg.create_task(others.run()),
            ]
            plane = _control_plane(
                settings, options, server, client, clock, scheduler=scheduler, manager=manager
            )
            tasks += [tg.create_task(run) for run in plane]
            if options.agent:
                endpoint_ = Endpoint(ep.url, ep.ca_cert, ep.token)
                tasks.append(tg.create_task(_agent(settings, node, endpoint_, clock, stop)))
            if on_ready is not None:
                on_ready(server)
            await stop.wait()
            for t in tasks:
                t.cancel()
    finally:
        if controllers is not None:
            await controllers.close()
        await kubelets.close()
        await node.close()
        await server.stop()
        await server.store.close()


def _control_plane(
    settings: Settings,
    options: UpOptions,
    server: ApiServer,
    client: ApiClient,
    clock: Clock,
    *,
    scheduler: Work,
    manager: Work,
) -> list[Coroutine[Any, Any, None]]:
    """The scheduler and the controllers. On SQLite (one server by construction) they simply
    run; on etcd each runs only while this server holds its Lease (``kube-scheduler``,
    ``kube-controller-manager`` in kube-system), beside this server's identity Lease and the
    ``kubernetes`` endpoints' reconciler."""
    if options.etcd is None:
        return [scheduler(), manager()]
    identity = ServerIdentity.load(settings.data_dir)

    def elector(name: str, component: str) -> LeaderElector:
        events = EventRecorder(client, component, clock=clock)
        return LeaderElector(
            client, namespace=LEADER_NAMESPACE, name=name, identity=identity.election,
            clock=clock, timing=options.election, events=events,
        )  # fmt: skip

    gateway = server.pod_gateway
    address = ServerAddress.parse(f"{gateway}:{server.port}") if gateway else None
    leases = ApiServerLeases(
        client, identity=identity, address=address, clock=clock, timing=options.apiserver_leases
    )
    return [
        leases.run(),
        elector("kube-scheduler", "default-scheduler").run(scheduler),
        elector("kube-controller-manager", "kube-controller-manager").run(manager),
    ]


async def _controller_manager(
    client: ApiClient,
    settings: Settings,
    ca_pem: str,
    pki: Pki,
    clock: Clock,
    grace: GracePeriods,
    cidrs: CidrSet,
) -> None:
    """Every controller of ``kubelite up``, until cancelled, over one set of informers (the
    cluster's pods, say, are cached once for all of them)."""
    shared = InformerSet(client, shared=True)
    async with asyncio.TaskGroup() as tg:
        for run in (
            ServiceEndpointsController(client, informers=shared).run(),
            WorkloadControllers(client, clock=clock, informers=shared).run(),
            JobController(client, clock=clock, informers=shared).run(),
            CronJobController(client, clock=clock, informers=shared).run(),
            StatefulSetController(client, clock=clock, informers=shared).run(),
            PersistentVolumeController(client, clock=clock, informers=shared).run(),
            LocalPathProvisioner(
                client, storage=settings.storage_dir, clock=clock, informers=shared
            ).run(),
            NodeLifecycleController(client, clock=clock, grace=grace, informers=shared).run(),
            NodeIpamController(client, cidrs=cidrs, clock=clock, informers=shared).run(),
            RootCAPublisher(client, ca=ca_pem, informers=shared).run(),
            TaintEvictionController(client, clock=clock, informers=shared).run(),
            CsrApprovingController(client, clock=clock).run(),
            CsrSigningController(client, signer=CaSigner(pki), clock=clock).run(),
            BootstrapSigner(client, clock=clock, informers=shared).run(),
            TokenCleaner(client, clock=clock, informers=shared).run(),
            shared.run(),
        ):
            tg.create_task(run)


def _pod_ranges(settings: Settings, options: UpOptions) -> CidrSet:
    """The node IPAM controller's blocks (``CidrConfigError`` for a mask that cannot cut the
    cluster's range)."""
    mask = effective_mask(settings.pod_cidr, options.node_cidr_mask_size)
    return cidr_set(settings.pod_cidr, mask, settings.service_cidr)


def _advertise_address(host: str) -> str | None:
    """The address pods reach the API server at, as the API server's advertise address: the
    listen address when it is one other machines reach; None keeps the pod network's gateway
    (a server on loopback, or on every address)."""
    if joining.is_wildcard(host):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return None if address.is_loopback or address.version != 4 else host


async def _join_setup(client: ApiClient, server_url: str, ca_pem: bytes) -> None:
    """cluster-info and the bindings nodes join through (a failure is logged: the cluster
    runs without joining nodes rather than not at all)."""
    try:
        await ensure_join_setup(client, server=server_url, ca_pem=ca_pem)
    except KubeliteError as err:
        log.warning("nodes cannot join: cluster-info and its bindings were not made: %s", err)


def _other_nodes(
    server: ApiServer, pki: Pki, settings: Settings, clock: Clock
) -> tuple[NodeConnector, OtherNodesMetrics]:
    """How the API server reaches the other nodes' servers (their pods' logs, exec, attach,
    port-forward) and scrapes their metrics; this process's own node stays in process."""
    kubelets = NodeConnector(
        registry=server.registry, tls=pki.kubelet_client_ssl_context(),
        local_node=settings.node_name,
    )  # fmt: skip
    others = OtherNodesMetrics(registry=server.registry, nodes=kubelets, clock=clock)
    server.set_backends(nodes=kubelets, other_nodes=others)
    return kubelets, others


async def run_agent(
    settings: Settings,
    server_url: str,
    *,
    stop: asyncio.Event,
    on_ready: Callable[[], None] | None = None,
    clock: Clock | None = None,
    join: Join | None = None,
    node_ip: str | None = None,
    serving: ServingOptions | None = None,
) -> None:
    """``kubelite agent``: the node agent alone. Without ``join``, against a server on this
    machine (its CA and bearer token are read from the data dir's PKI); with it, as a node of
    its own: TLS bootstrap with the token (or the certificate of an earlier join), then the
    node's client certificate, renewed before it expires. ``node_ip`` is the InternalIP to
    report (default: the address the server is reached from). A joined node serves the
    kubelet API (``nodeserver``, on ``serving``'s port) for the API server to reach its pods."""
    clock = clock or SystemClock()
    facts = node_facts(settings)
    address = joining.node_ip(server_url, node_ip)
    if address is not None:
        facts = dataclasses.replace(facts, host_ip=address)
    rotation = None
    if join is None:
        pki = ensure_pki(settings.pki_dir)
        ep = Endpoint(server_url, pki.ca_cert, pki.token())
    else:
        files = joining.credential_files(settings)
        tls = await bootstrap(join, files, settings.node_name, clock=clock)
        ep = Endpoint(server_url, files.ca, "", tls)
        rotation = CertificateManager(
            server=server_url, files=files, node_name=settings.node_name, tls=tls, clock=clock
        )
    node = await build_node(settings, clock=clock, network_later=True)
    try:
        serving = (serving or ServingOptions()) if join is not None else None
        await _agent(settings, node, ep, clock, stop, on_ready, facts=facts,
                     worker=join is not None, rotation=rotation, serving=serving)  # fmt: skip
    finally:
        await node.close()


async def _agent(
    settings: Settings,
    node: Node,
    ep: Endpoint,
    clock: Clock,
    stop: asyncio.Event,
    on_ready: Callable[[], None] | None = None,
    *,
    facts: NodeFacts | None = None,
    worker: bool = False,
    rotation: CertificateManager | None = None,
    serving: ServingOptions | None = None,
) -> None:
    """Register the Node (a joined ``worker`` without the control-plane role; NotReady until
    its pod network is made), then run its heartbeat, the certificate's ``rotation`` and the
    pods with the node's network services (``_pods``) until cancelled or stopped."""
    facts = facts or node_facts(settings)
    client = ApiNodeClient(endpoint=ep, node=facts, clock=clock)
    creds = Credentials(ep.url, ep.ca_cert, ep.token, ep.tls)
    rest = ApiClient(creds, user_agent="kubelite-node")
    try:
        registered = node_object(facts, clock.now())
        if serving is not None:
            registered = with_kubelet_port(registered, serving.port)
        if node.pod_network is not None and node.network is None:
            registered = registered_not_ready(registered)
        await client.register_node(joining.as_worker(registered) if worker else registered)
        cluster_dns = None
        if node.pod_network is not None:
            dns_ip = NetworkLayout.from_settings(settings).dns_service_ip
            cluster_dns = ClusterDNS((str(dns_ip),), settings.cluster_domain)
        agent = NodeAgent(
            settings=settings, runtime=node.runtime, images=node.images, client=client,
            clock=clock, node=facts, cluster_dns=cluster_dns,
        )  # fmt: skip
        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(client.heartbeat()),
                tg.create_task(client.watch_services()),
                tg.create_task(_pods(settings, node, agent, client, rest)),
            ]
            if rotation is not None:
                tasks.append(tg.create_task(rotation.rotate()))
            if serving is not None:  # the kubelet API, for the API server to reach its pods
                _, runs = node_server(
                    node_name=facts.node_name, host_ip=facts.host_ip, runtime=node.runtime,
                    pod_logs_dir=settings.pod_logs_dir, files=joining.credential_files(settings),
                    rest=rest, clock=clock, options=serving,
                )  # fmt: skip
                tasks += [tg.create_task(run) for run in runs]
            if on_ready is not None:
                on_ready()
            await stop.wait()
            for t in tasks:
                t.cancel()
    finally:
        await client.close()
        await rest.close()


async def _pods(
    settings: Settings, node: Node, agent: NodeAgent, client: ApiNodeClient, rest: ApiClient
) -> None:
    """The pods, once the pod network is made for the node's range (its Node's
    ``spec.podCIDR``, waited for), with the Service proxy, cluster DNS and the routes to the
    other nodes' pods beside them."""
    async with asyncio.TaskGroup() as tg:
        if node.pod_network is not None:
            if node.network is None:
                await node.configure_network(await wait_for_pod_cidr(rest, settings.node_name))
                await client.report_ready()
            for run in _node_services(settings, node, rest):
                tg.create_task(run)
        tg.create_task(agent.run())


def _node_services(
    settings: Settings, node: Node, rest: ApiClient
) -> list[Coroutine[Any, Any, None]]:
    """kube-proxy's, cluster DNS's and kindnetd's work on this node, on shared watches of
    Services, EndpointSlices, Namespaces and Nodes."""
    assert node.network is not None and node.host is not None
    services = Informer(rest, SERVICES)
    slices = Informer(rest, ENDPOINT_SLICES)
    namespaces = Informer(rest, NAMESPACES)
    nodes = Informer(rest, NODES)
    config = ProxyConfig.from_layout(
        node.network, masquerade_all=not node.host.bridge_netfilter, node_name=settings.node_name
    )
    proxy = ServiceProxy(config=config, services=services, slices=slices, nodes=nodes)
    dns = ClusterDns(
        layout=node.network, node_name=settings.node_name, client=rest, services=services,
        slices=slices, namespaces=namespaces,
    )  # fmt: skip
    routes = RouteSync(nodes=nodes, layout=node.network, node_name=settings.node_name)
    informers = (services, slices, namespaces, nodes)
    return [*(i.run() for i in informers), proxy.run(), dns.run(), routes.run()]
