"""``kubelite ui-link``: print a new one-time login link for the web view of a running
``kubelite up`` (the one it printed at start-up is used up, or ten minutes old, or was lost).

It asks the server for a link as the cluster admin (``POST /ui/api/links`` with the admin
bearer token from the data dir's PKI, checked against its CA), so it works only where that
PKI is: on the machine, for whoever may read the data dir. Whoever else RBAC lets ``post``
that path may ask too, with ``kubectl create --raw /ui/api/links -f - <<< '{}'``.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import urllib.error
import urllib.request

from kubelite.api.assembly import DEFAULT_PORT
from kubelite.api.pki import ensure_pki
from kubelite.settings import Settings
from kubelite.ui.webview import login_url

NAME = "ui-link"
HELP = "print a new one-time login link for the web view of a running kubelite up"
TIMEOUT_SECONDS = 10.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API server port")
    parser.add_argument("--host", default="127.0.0.1", help="API server address")


def new_link(base_url: str, *, token: str, ca_file: str) -> str:
    """Asks the server at ``base_url`` for a link; raises ``urllib.error.URLError`` (an
    ``HTTPError`` with the server's answer) when it cannot give one."""
    context = ssl.create_default_context(cafile=ca_file)
    req = urllib.request.Request(
        base_url + "/ui/api/links",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, context=context, timeout=TIMEOUT_SECONDS) as resp:
        body = json.loads(resp.read())
    return login_url(base_url, str(body["path"]))


def _status_message(err: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(err.read()).get("message") or err.reason)
    except (ValueError, AttributeError):
        return str(err.reason)


def run(args: argparse.Namespace, settings: Settings) -> int:
    pki = ensure_pki(settings.pki_dir)
    base = f"https://{args.host}:{args.port}"
    try:
        link = new_link(base, token=pki.token(), ca_file=str(pki.ca_cert))
    except urllib.error.HTTPError as err:
        if err.code == 404:
            sys.stderr.write(
                f"kubelite ui-link: {base} serves no web view (kubelite up --no-ui?)\n"
            )
        else:
            sys.stderr.write(f"kubelite ui-link: {base} refused: {_status_message(err)}\n")
        return 1
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        sys.stderr.write(f"kubelite ui-link: no kubelite up answers on {base}: {reason}\n")
        return 1
    sys.stdout.write(link + "\n")
    return 0
