"""Who this ``kubelite up`` is, to the other servers on the same etcd.

A server's id is a UUID kept in ``<data-dir>/server-id`` (made at its first start), so a
restarted server is the same server:

* its leader-election identity is ``<hostname>_<id>`` (the controller manager's and the
  scheduler's ``<hostname>_<uuid>``, with the UUID kept): a restart finds its own name in the
  Lease and leads again at once instead of waiting out its own term;
* its API server identity Lease is ``apiserver-<hash>`` as the kube-apiserver names it (the
  first 16 bytes of a SHA-256, base32, lower case), hashed from the hostname and the id rather
  than the hostname alone, so two servers on one machine are two identities; the holder is
  ``<lease name>_<a UUID of this run>``.

Copy a server's ``pki`` directory to make another, never its ``server-id``: two servers with one
id would both think they lead.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

ID_FILE = "server-id"


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    hostname: str
    server_id: str  # stable across restarts
    run_id: str  # new at every start

    @classmethod
    def load(cls, data_dir: Path, *, hostname: str | None = None) -> ServerIdentity:
        return cls(
            hostname=hostname or socket.gethostname(),
            server_id=stable_id(data_dir),
            run_id=str(uuid.uuid4()),
        )

    @property
    def election(self) -> str:
        """The holderIdentity this server writes in leader-election Leases."""
        return f"{self.hostname}_{self.server_id}"

    @property
    def lease_name(self) -> str:
        return apiserver_lease_name(self.hostname, self.server_id)

    @property
    def lease_holder(self) -> str:
        return f"{self.lease_name}_{self.run_id}"


def stable_id(data_dir: Path) -> str:
    """The UUID in ``<data-dir>/server-id``, written there (0600) if it is not yet."""
    path = data_dir / ID_FILE
    try:
        text = path.read_text().strip()
        if text:
            return str(uuid.UUID(text))
    except (FileNotFoundError, ValueError):
        pass
    made = str(uuid.uuid4())
    tmp = path.with_name(f".{ID_FILE}.{made}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(made + "\n")
    os.replace(tmp, path)
    return made


def apiserver_lease_name(hostname: str, server_id: str) -> str:
    """``apiserver-`` + 26 base32 characters: the kube-apiserver's length-prefixed hash of
    its hostname and ``kube-apiserver``, with the server's id after them."""
    data = b"".join(_prefixed(s) for s in (hostname, "kube-apiserver", server_id))
    digest = hashlib.sha256(data).digest()[:16]
    return "apiserver-" + base64.b32encode(digest).decode().rstrip("=").lower()


def _prefixed(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw
