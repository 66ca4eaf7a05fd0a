"""``kubelite token create``: make a bootstrap token on a running cluster and print the
command that joins a machine with it, as ``kubeadm token create --print-join-command``::

    kubelite agent --server https://10.0.0.1:6443 --token abcdef.0123456789abcdef \\
        --discovery-token-ca-cert-hash sha256:<hex of the CA's public key>

The token is a ``bootstrap.kubernetes.io/token`` Secret in ``kube-system`` (``--ttl``, 24h by
default, ``0`` for never; the token cleaner deletes it once expired), usable to authenticate
and to sign ``cluster-info``, in the group whose CSRs are approved automatically. It is made
through the API with the kubeconfig's credentials (``--kubeconfig``, ``$KUBECONFIG``,
``~/.kube/config``), so whoever runs it needs the right to create Secrets in kube-system. The
server in the command is the one ``cluster-info`` advertises (``--server`` to choose).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from kubelite.client.kubeconfig import KubeconfigError, default_path, load
from kubelite.client.rest import ApiClient, ApiError, Resource
from kubelite.model import bootstraptoken as bt
from kubelite.model import clusterinfo as ci
from kubelite.model.capin import ca_cert_hash_of_pem
from kubelite.settings import Settings
from kubelite.store.etcdconfig import StoreURLError, parse_duration

NAME = "token"
HELP = "manage bootstrap tokens, with which machines join the cluster as nodes"

SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", help="make a token and print the command that joins a machine with it"
    )
    create.add_argument(
        "--ttl", default="24h", metavar="DURATION", help="how long it is valid (0: forever)"
    )
    create.add_argument("--description", default="", help="what the token is for")
    create.add_argument("--kubeconfig", metavar="FILE", help="how to reach the cluster")
    create.add_argument(
        "--server", metavar="URL", help="the API server URL to put in the join command"
    )
    create.add_argument(
        "--print-join-command", action="store_true", help="(the default; kept for kubeadm users)"
    )


async def _advertised(client: ApiClient) -> str:
    """The server cluster-info names ("" if it cannot be read)."""
    try:
        cm = await client.get(CONFIGMAPS, ci.NAMESPACE, ci.NAME)
        server, _ = ci.cluster_of(str((cm.get("data") or {}).get(ci.KUBECONFIG_KEY) or ""))
    except (ApiError, ci.DiscoveryError):
        return ""
    return server


async def create(args: argparse.Namespace) -> str:
    """Make the token; the join command."""
    access = load(default_path(args.kubeconfig))
    ttl = parse_duration(args.ttl)
    client = ApiClient(access.credentials, user_agent="kubelite-token")
    try:
        for _ in range(5):  # a clash with an existing token id is retried with another
            token = bt.new_token()
            body = bt.token_secret(token, now=time.time(), ttl=ttl, description=args.description)
            try:
                await client.create(SECRETS, bt.NAMESPACE, body)
                break
            except ApiError as err:
                if not err.conflict:
                    raise
        else:
            raise ApiError(409, "AlreadyExists", "could not find a free token id")
        server = args.server or await _advertised(client) or access.server
    finally:
        await client.close()
    pin = ca_cert_hash_of_pem(access.ca_pem) if access.ca_pem else "sha256:<CA hash>"
    return f"kubelite agent --server {server} --token {token} --discovery-token-ca-cert-hash {pin}"


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        line = asyncio.run(create(args))
    except (KubeconfigError, StoreURLError, ApiError) as err:
        print(f"kubelite token {args.action}: {err}", file=sys.stderr)
        return 1
    print(line)
    return 0
