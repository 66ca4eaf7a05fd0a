"""The web view's session as an API credential: the authenticator the API's authentication
middleware asks after client certificates and bearer tokens (``api.auth``).

A request is the session's when it carries the session cookie of a live session and the
``X-Kubelite-UI: 1`` header. The cookie alone is not enough: a page on another site cannot set
that header without a CORS preflight this server never grants, and the cookie is
``SameSite=Strict`` besides (cross-site requests do not carry it). The session acts as the
user ``kubelite:ui`` (``access``), and only reads: any other method than GET or HEAD
with the session is refused with a 403 before it reaches authorization, whatever RBAC grants
that user.
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api.auth import AUTHENTICATED, UserInfo
from kubelite.api.errors import ApiError
from kubelite.ui.sessions import Sessions

# ``__Host-``: the browser keeps it only if Secure, for this host alone, on path ``/``.
COOKIE = "__Host-kubelite-ui"
HEADER = "X-Kubelite-UI"
SAFE_METHODS = frozenset({"GET", "HEAD"})
READ_ONLY = "the web view's session is read-only: use kubectl to change anything"


def session_user(name: str) -> UserInfo:
    return UserInfo(name, groups=(AUTHENTICATED,))


class SessionAuthenticator:
    """Answers ``api.auth``'s question for the session cookie; ``enabled`` False (the web view
    is off) answers None to everything."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self.enabled = False

    def authenticate(self, request: web.Request) -> UserInfo | None:
        """The session's user, or None if the request is not the session's. Raises a 403
        ``ApiError`` for a session's request that would change something."""
        session_id = request.cookies.get(COOKIE)
        if not self.enabled or not session_id or request.headers.get(HEADER) != "1":
            return None
        session = self._sessions.lookup(session_id)
        if session is None:
            return None
        if request.method not in SAFE_METHODS:
            raise ApiError(403, "Forbidden", READ_ONLY)
        return session_user(session.user)
