"""DNS messages at the packet level, for the cluster DNS server: the checks made on a message's
header before it is parsed, the refusals made from the header alone, the checks CoreDNS makes
before any zone (class, EDNS version), and the last steps of an own answer (``loadbalance``'s
shuffle, the client's OPT echoed, the cut to the client's UDP size with TC set). It exists
apart from the server so that these rules, which follow miekg/dns and CoreDNS byte for byte,
read without the sockets and tasks around them. Pure: no I/O.
"""

from __future__ import annotations

import random
import struct
from typing import Any

from dnslib import CLASS, EDNS0, QTYPE, RCODE, DNSHeader, DNSRecord

from kubelite.network.dnsanswer import reply

DNS_PORT = 53
UDP_MIN_SIZE = 512  # without EDNS, and the floor of what EDNS may ask for
TCP_MAX_SIZE = 65535
HEADER = struct.Struct("!HHHHHH")
DROP = -1  # screen(): ignore the message
OPCODE_QUERY = 0
BADVERS = 16


def screen(data: bytes) -> int | None:
    """None to serve the message; DROP to ignore it; else the rcode that refuses it from its
    header alone."""
    if len(data) < HEADER.size:
        return DROP
    _, flags, qd, an, ns, ar = HEADER.unpack_from(data)
    if flags & 0x8000:
        return DROP
    if (flags >> 11) & 0xF != OPCODE_QUERY:
        return int(RCODE.NOTIMP)
    if qd != 1 or an > 1 or ns > 1 or ar > 2:
        return int(RCODE.FORMERR)
    return None


def header_reply(data: bytes, rcode: int) -> bytes:
    """A header-only refusal: the request's flags with qr set, aa and z cleared, and the opcode
    kept only for NOTIMP."""
    ident, flags = struct.unpack_from("!HH", data)
    opcode = flags & 0x7800 if rcode == RCODE.NOTIMP else 0
    flags = (flags & ~(0x7800 | 0x0400 | 0x0040 | 0xF)) | 0x8000 | opcode | rcode
    return HEADER.pack(ident, flags, 0, 0, 0, 0)


def _opt(request: DNSRecord) -> Any:
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return rr
    return None


def udp_limit(request: DNSRecord) -> int:
    opt = _opt(request)
    return max(UDP_MIN_SIZE, int(opt.edns_len)) if opt is not None else UDP_MIN_SIZE


def early_reply(request: DNSRecord) -> DNSRecord | None:
    """CoreDNS's checks before any zone: class IN only, EDNS version 0 only."""
    if request.q.qclass != CLASS.IN:
        return reply(request, RCODE.REFUSED, aa=False)
    opt = _opt(request)
    if opt is not None and opt.edns_ver != 0:
        return reply(request, 0, aa=False, ar=[EDNS0(ext_rcode=BADVERS >> 4, version=0)])
    return None


def round_robin(records: list[Any], rng: random.Random) -> list[Any]:
    """CoreDNS's loadbalance: address records (and MX) shuffled, CNAMEs kept first."""
    if len(records) <= 1:
        return records
    first = records[0].rtype
    if first in (QTYPE.A, QTYPE.AAAA) and all(r.rtype == first for r in records):
        out = list(records)
        rng.shuffle(out)
        return out
    cnames = [r for r in records if r.rtype == QTYPE.CNAME]
    addresses = [r for r in records if r.rtype in (QTYPE.A, QTYPE.AAAA)]
    mx = [r for r in records if r.rtype == QTYPE.MX]
    rest = [r for r in records if r.rtype not in (QTYPE.CNAME, QTYPE.A, QTYPE.AAAA, QTYPE.MX)]
    rng.shuffle(addresses)
    rng.shuffle(mx)
    return cnames + rest + addresses + mx


def deterministic(response: DNSRecord) -> bool:
    """Whether ``round_robin`` leaves every section of ``response`` as it is, whatever the dice."""
    for section in (response.rr, response.auth, response.ar):
        types = [r.rtype for r in section]
        if types.count(QTYPE.A) + types.count(QTYPE.AAAA) > 1 or types.count(QTYPE.MX) > 1:
            return False
    return True


def truncate(response: DNSRecord, limit: int) -> bytes:
    """The longest prefix of the answer, authority and additional records (in that order) that
    fits ``limit`` with the OPT record kept, TC set when anything was left out (miekg/dns)."""
    opt = [r for r in response.ar if r.rtype == QTYPE.OPT]
    records = [
        *((0, r) for r in response.rr),
        *((1, r) for r in response.auth),
        *((2, r) for r in response.ar if r.rtype != QTYPE.OPT),
    ]

    def packed(count: int) -> bytes:
        kept = records[:count]
        sections: list[list[Any]] = [[], [], []]
        for section, rr in kept:
            sections[section].append(rr)
        out = DNSRecord(
            DNSHeader(id=response.header.id, bitmap=response.header.bitmap),
            questions=list(response.questions),
            rr=sections[0],
            auth=sections[1],
            ar=sections[2] + opt,
        )
        if count < len(records):
            out.header.tc = 1
        data: bytes = out.pack()
        return data

    low, high = 0, len(records)
    while low < high:
        mid = (low + high + 1) // 2
        if len(packed(mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    return packed(low)


def finish(request: DNSRecord, response: DNSRecord, limit: int, rng: random.Random | None) -> bytes:
    """The wire form of an own response: shuffled, with the client's OPT echoed, cut to size."""
    if rng is not None and response.header.rcode == RCODE.NOERROR:
        response.rr = round_robin(response.rr, rng)
        response.auth = round_robin(response.auth, rng)
        response.ar = round_robin(response.ar, rng)
    opt = _opt(request)
    if opt is not None and _opt(response) is None:
        echo = EDNS0(udp_len=opt.edns_len, flags="do" if opt.edns_do else "")
        response.add_ar(echo)
    data: bytes = response.pack()
    return data if len(data) <= limit else truncate(response, limit)
