"""Cluster DNS: the reply to one query from the cluster's records (``dnsindex.ClusterRecords``),
as CoreDNS's ``kubernetes`` plugin gives it in a kind/kubeadm cluster. It exists apart from the
index so that the per-query rules (one handler per query type) read on their own. Pure: no I/O.

The SOA's TTL is the records' TTL capped at 300 s, and cluster answers are never cached. The
rules follow the plugin's code, odd corners included: an SOA query for any name below the zone
apex is NODATA, a TXT query for a name without records of its own (a namespace, the apex) is
NXDOMAIN, a headless Service without ready endpoints is NXDOMAIN. Like CoreDNS, authoritative
answers carry ``aa`` but not ``ra``.

In the reverse zones served here kubelite is authoritative (an unknown address is NXDOMAIN).
kind's CoreDNS would pass such a miss on to the host's resolvers, which can only say NXDOMAIN
for a private range. Other reverse names are not ours.

``answer`` returns None for a name outside every zone served here: the caller forwards it. An
ExternalName whose target lies outside the cluster zone is answered with its CNAME alone; the
caller resolves the target (``chase_target``) and appends what it got (``complete_chase``), as
CoreDNS does by asking its own server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dnslib import (
    CNAME,
    NS,
    PTR,
    QTYPE,
    RCODE,
    RR,
    SOA,
    SRV,
    TXT,
    DNSHeader,
    DNSLabel,
    DNSRecord,
)

from kubelite.network.dnsindex import (
    NS_DNS,
    POD,
    SVC,
    ClusterRecords,
    Hit,
    Kind,
    Port,
    Zone,
    address_from_reverse,
    parse_ip,
    wire_labels,
)

SOA_TTL_CAP = 300
SOA_TIMERS = (7200, 1800, 86400)  # refresh, retry, expire
DNS_SCHEMA_VERSION = "1.1.0"  # https://github.com/kubernetes/dns/blob/master/docs/specification.md
DNS_VERSION_TTL = 28800
MAX_CNAME_CHAIN = 10

_ADDRESS_TYPES = (QTYPE.A, QTYPE.AAAA)


def _lower(name: DNSLabel) -> tuple[str, ...]:
    return tuple(part.lower().decode("latin-1") for part in name.label)


@dataclass(frozen=True, slots=True)
class _Request:
    """A name below the cluster zone, taken apart as CoreDNS's parseRequest does."""

    kind: str = ""  # "svc", "pod", or "" for the apex, "svc." and "pod." (NODATA)
    namespace: str = ""
    service: str = ""
    endpoint: str = ""
    port: str = ""
    protocol: str = ""


_EMPTY = _Request()


def _parse(base: tuple[str, ...]) -> _Request | None:
    """None: a name that cannot exist (NXDOMAIN)."""
    if base in ((), (SVC,), (POD,)):
        return _EMPTY
    kind = base[-1]
    if kind not in (SVC, POD):
        return None
    rest = base[:-3]
    if len(rest) > 2:
        return None
    namespace = base[-2]
    service = base[-3] if len(base) > 2 else ""
    if len(rest) == 1:
        return _Request(kind, namespace, service, endpoint=rest[0])
    if len(rest) == 2:
        return _Request(kind, namespace, service, port=_bare(rest[0]), protocol=_bare(rest[1]))
    return _Request(kind, namespace, service)


def _bare(label: str) -> str:
    return label[1:] if label.startswith("_") else label


@dataclass(frozen=True, slots=True)
class _Query:
    records: ClusterRecords
    zone: Zone
    zone_wire: tuple[bytes, ...]  # the zone as the query spells it (answers keep its case)


Found = tuple[list[Hit], bool]  # hits, and whether the name does not exist


def _records(q: _Query, base: tuple[str, ...]) -> Found:
    req = _parse(base)
    if req is None:
        return [], True
    if not req.kind:
        return [], False
    if q.zone.reverse or req.namespace not in q.records.namespaces:
        return [], True
    if req.kind == POD:
        return _pod(req)
    return _find_services(q.records, req)


def _matches(req: _Request, port: Port) -> bool:
    return (not req.port or req.port == port.name) and (
        not req.protocol or req.protocol == port.protocol
    )


def _find_services(records: ClusterRecords, req: _Request) -> Found:
    if not req.service:
        return [], False
    svc = records.services.get((req.namespace, req.service))
    if svc is None:
        return [], True
    filtered = bool(req.endpoint or req.port or req.protocol)
    if svc.kind is Kind.EXTERNAL:
        if filtered or svc.external is None:
            return [], True
        return [svc.external], False
    if svc.kind is Kind.HEADLESS or req.endpoint:
        if not filtered:
            hits = list(svc.bare_endpoint_hits)
        else:
            hits = [
                hit
                for port, label, hit in svc.endpoint_hits
                if (not req.endpoint or label == req.endpoint) and _matches(req, port)
            ]
        return hits, not hits
    if not filtered:
        return [hit for _, hit in svc.ip_hits], False
    hits = [hit for port, hit in svc.ip_hits if _matches(req, port)]
    return hits, not any(_matches(req, port) for port in svc.ports)


def _pod(req: _Request) -> Found:
    """``pods insecure``: 1-2-3-4.<ns>.pod.<zone> is 1.2.3.4, whether or not such a pod runs."""
    name = req.service
    if not name:
        return [], False
    dotted = name.count("-") == 3 and "--" not in name
    parsed = parse_ip(name.replace("-", "." if dotted else ":"))
    if parsed is None:
        return [], True
    rtype, text, rdata = parsed
    return [Hit(rtype, text, rdata, 0, (name, req.namespace, POD))], False


def _services(q: _Query, base: tuple[str, ...], qtype: int) -> Found:
    if base == NS_DNS:
        return [hit for hit in q.records.nameservers if hit.rtype == qtype], False
    hits, missing = _records(q, base)
    if qtype == QTYPE.SRV:
        hits = [hit for hit in hits if hit.rtype != QTYPE.CNAME]
    return hits, missing


Section = list[Any]  # dnslib RRs
Answered = tuple[Section, Section, bool]  # answer, additional, name error


def _addresses(
    q: _Query, base: tuple[str, ...], name: DNSLabel, qtype: int, chain: Section
) -> tuple[Section, bool]:
    if not base:  # the apex has no address records here
        return [], False
    hits, missing = _services(q, base, qtype)
    if missing:
        return [], True
    out: Section = []
    seen: set[str] = set()
    ttl = q.records.ttl
    for hit in hits:
        if hit.rtype == QTYPE.CNAME:
            out.extend(_follow(q, base, name, hit, qtype, chain))
        elif hit.rtype == qtype and hit.host not in seen:
            seen.add(hit.host)
            out.append(RR(name, qtype, ttl=ttl, rdata=hit.rdata))
    return out, False


def _follow(
    q: _Query, base: tuple[str, ...], name: DNSLabel, hit: Hit, qtype: int, chain: Section
) -> Section:
    """An ExternalName's CNAME, followed inside the zone; outside it, left for the caller."""
    size = len(q.zone.labels)
    if hit.target_lower == base + q.zone.labels or len(chain) > MAX_CNAME_CHAIN:
        return []
    target = DNSLabel(hit.target)
    if any(rr.rname == name and rr.rdata.label == target for rr in chain):
        return []
    record = RR(name, QTYPE.CNAME, ttl=q.records.ttl, rdata=CNAME(target))
    if hit.target_lower[len(hit.target_lower) - size :] != q.zone.labels:
        return [record]
    inner = hit.target_lower[: len(hit.target_lower) - size]
    found, missing = _addresses(q, inner, target, qtype, [*chain, record])
    return [record, *found] if found and not missing else []


def _address_answer(qtype: int) -> Any:
    def handler(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
        found, missing = _addresses(q, base, name, qtype, [])
        return found, [], missing

    return handler


def _srv(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    hits, missing = _services(q, base, QTYPE.SRV)
    if missing or not hits:
        return [], [], missing
    weight = max(1, math.floor(100.0 / (100 * len(hits)) * 100))
    answers: Section = []
    extra: Section = []
    seen: set[tuple[tuple[str, ...], int | str]] = set()
    ttl = q.records.ttl
    for hit in hits:
        if hit.port == -1:
            continue
        target = DNSLabel(wire_labels(hit.owner) + q.zone_wire)
        if (hit.owner, hit.port) not in seen:
            seen.add((hit.owner, hit.port))
            rdata = SRV(priority=0, weight=weight, port=hit.port, target=target)
            answers.append(RR(name, QTYPE.SRV, ttl=ttl, rdata=rdata))
        if (hit.owner, hit.host) not in seen:
            seen.add((hit.owner, hit.host))
            extra.append(RR(target, hit.rtype, ttl=ttl, rdata=hit.rdata))
    return answers, extra, False


def _txt(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    if base == ("dns-version",):
        rdata = TXT(DNS_SCHEMA_VERSION)
        return [RR(name, QTYPE.TXT, ttl=DNS_VERSION_TTL, rdata=rdata)], [], False
    hits, _ = _records(q, base)
    return [], [], not hits


def _cname(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    hits, missing = _services(q, base, QTYPE.CNAME)
    if hits and hits[0].rtype == QTYPE.CNAME:
        rdata = CNAME(DNSLabel(hits[0].target))
        return [RR(name, QTYPE.CNAME, ttl=q.records.ttl, rdata=rdata)], [], missing
    return [], [], missing


def _ptr(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    ip = address_from_reverse(base + q.zone.labels) if q.zone.reverse else None
    if ip is None:
        _, missing = _records(q, base)
        return [], [], missing
    targets = q.records.reverse.get(ip, ())
    ttl = q.records.ttl
    return [RR(name, QTYPE.PTR, ttl=ttl, rdata=PTR(DNSLabel(t))) for t in targets], [], not targets


def _soa(q: _Query) -> Any:
    zone = DNSLabel(q.zone_wire)
    r = q.records
    rdata = SOA(
        mname=DNSLabel(wire_labels(NS_DNS) + q.zone_wire),
        rname=DNSLabel((b"hostmaster", *q.zone_wire)),
        times=(r.serial, *SOA_TIMERS, r.ttl),
    )
    return RR(zone, QTYPE.SOA, ttl=min(r.ttl, SOA_TTL_CAP), rdata=rdata)


def _soa_answer(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    return ([_soa(q)] if not base else []), [], False


def _ns(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    if base:
        return _other(q, base, name)
    answers: Section = []
    extra: Section = []
    owners: set[tuple[str, ...]] = set()
    ttl = q.records.ttl
    for hit in q.records.nameservers:
        target = DNSLabel(wire_labels(hit.owner) + q.zone_wire)
        extra.append(RR(target, hit.rtype, ttl=ttl, rdata=hit.rdata))
        if hit.owner not in owners:
            owners.add(hit.owner)
            answers.append(RR(name, QTYPE.NS, ttl=ttl, rdata=NS(target)))
    return answers, extra, False


def _other(q: _Query, base: tuple[str, ...], name: DNSLabel) -> Answered:
    """Any other type (MX, ANY, HINFO, …): no records; an A lookup tells NODATA from NXDOMAIN."""
    _, missing = _addresses(q, base, name, QTYPE.A, [])
    return [], [], missing


_HANDLERS = {
    QTYPE.A: _address_answer(QTYPE.A),
    QTYPE.AAAA: _address_answer(QTYPE.AAAA),
    QTYPE.SRV: _srv,
    QTYPE.TXT: _txt,
    QTYPE.CNAME: _cname,
    QTYPE.PTR: _ptr,
    QTYPE.SOA: _soa_answer,
    QTYPE.NS: _ns,
}


def reply(
    request: DNSRecord,
    rcode: int,
    *,
    aa: bool = True,
    rr: Section | None = None,
    auth: Section | None = None,
    ar: Section | None = None,
) -> DNSRecord:
    """A reply to ``request``: its id, opcode, rd and cd; qr set; ``aa`` as given; no ``ra``."""
    bits = request.header.bitmap
    bitmap = 0x8000 | (bits & 0x7910) | (0x0400 if aa else 0) | (rcode & 0xF)
    return DNSRecord(
        DNSHeader(id=request.header.id, bitmap=bitmap),
        questions=list(request.questions[:1]),
        rr=rr,
        auth=auth,
        ar=ar,
    )


def answer(request: DNSRecord, records: ClusterRecords) -> DNSRecord | None:
    """The reply to a one-question query of class IN, or None if its name is not in a zone
    served here (forward it)."""
    question = request.q
    name = question.qname
    lowered = _lower(name)
    zone = records.zone_for(lowered)
    if zone is None:
        return None
    cut = len(lowered) - len(zone.labels)
    q = _Query(records, zone, tuple(name.label[cut:]))
    if question.qtype in (QTYPE.AXFR, QTYPE.IXFR):
        return reply(request, RCODE.REFUSED, aa=False)
    handler = _HANDLERS.get(question.qtype, _other)
    answers, extra, missing = handler(q, lowered[:cut], name)
    if missing:
        rcode = RCODE.NXDOMAIN if records.synced else RCODE.SERVFAIL
        return reply(request, rcode, auth=[_soa(q)])
    if not answers:
        return reply(request, RCODE.NOERROR, auth=[_soa(q)])
    return reply(request, RCODE.NOERROR, rr=answers, ar=extra)


def chase_target(response: DNSRecord) -> DNSLabel | None:
    """The name to resolve elsewhere when an answer ends in a CNAME that leaves the zone."""
    if response.header.rcode != RCODE.NOERROR or not response.rr:
        return None
    if response.q.qtype not in _ADDRESS_TYPES or response.rr[-1].rtype != QTYPE.CNAME:
        return None
    label: DNSLabel = response.rr[-1].rdata.label
    return label


def complete_chase(response: DNSRecord, resolved: DNSRecord | None) -> DNSRecord:
    """``response`` with the answers found for its CNAME's target (CoreDNS keeps the CNAME
    alone when that lookup failed)."""
    if resolved is None:
        return response
    out = DNSRecord(
        DNSHeader(id=response.header.id, bitmap=response.header.bitmap),
        questions=list(response.questions),
        rr=[*response.rr, *resolved.rr],
        auth=list(response.auth),
        ar=list(response.ar),
    )
    if resolved.header.tc:
        out.header.tc = 1
    return out
