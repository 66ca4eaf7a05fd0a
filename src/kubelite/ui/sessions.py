"""The web view's credentials, kept in memory only: one-time login tokens and browser sessions.

A login token is the secret a login link carries. It opens one session, once, within its
lifetime (10 minutes); then it is gone, used or not. A session is what the browser holds
instead, as an opaque id in a cookie: it ends after an idle hour, after twelve hours whatever
happens, on logout, or when the server restarts (the user asks for a new link then).

Both tables are bounded (the oldest entry goes first) and keep only SHA-256 digests of the
secrets, so what they hold cannot be replayed and a lookup never compares a secret byte by
byte. Time is the clock's monotonic seconds: a wall-clock step neither revives nor ends a
session.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from kubelite.clock import Clock

LOGIN_TOKEN_SECONDS = 600.0
SESSION_IDLE_SECONDS = 3600.0
SESSION_MAX_SECONDS = 12 * 3600.0
MAX_LOGIN_TOKENS = 32
MAX_SESSIONS = 64
SECRET_BYTES = 32  # 256 bits, as url-safe base64 (43 characters)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """One browser's session: who it acts as, and when (monotonic seconds) it began and was
    last used."""

    user: str
    started: float
    last_used: float

    def expired(self, now: float, *, idle: float, lifetime: float) -> bool:
        return now - self.last_used >= idle or now - self.started >= lifetime


class LoginTokens:
    """Single-use login tokens: ``issue`` one, ``redeem`` it once within its lifetime."""

    def __init__(
        self,
        *,
        clock: Clock,
        lifetime: float = LOGIN_TOKEN_SECONDS,
        limit: int = MAX_LOGIN_TOKENS,
        make_secret: Callable[[], str] = new_secret,
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._limit = limit
        self._make_secret = make_secret
        self._deadlines: dict[str, float] = {}  # digest -> monotonic deadline, oldest first

    @property
    def lifetime_seconds(self) -> float:
        return self._lifetime

    def issue(self) -> str:
        now = self._clock.monotonic()
        self._forget_expired(now)
        while len(self._deadlines) >= self._limit:
            del self._deadlines[next(iter(self._deadlines))]
        token = self._make_secret()
        self._deadlines[digest(token)] = now + self._lifetime
        return token

    def redeem(self, token: str) -> bool:
        """True the first time a token issued here is given back in time; never again."""
        deadline = self._deadlines.pop(digest(token), None)
        return deadline is not None and self._clock.monotonic() < deadline

    def __len__(self) -> int:
        self._forget_expired(self._clock.monotonic())
        return len(self._deadlines)

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, deadline in self._deadlines.items() if deadline <= now]:
            del self._deadlines[key]


class Sessions:
    """Browser sessions by id: ``open`` one for a user, ``lookup`` (which keeps it alive),
    ``close``."""

    def __init__(
        self,
        *,
        clock: Clock,
        idle: float = SESSION_IDLE_SECONDS,
        lifetime: float = SESSION_MAX_SECONDS,
        limit: int = MAX_SESSIONS,
        make_secret: Callable[[], str] = new_secret,
    ) -> None:
        self._clock = clock
        self._idle = idle
        self._lifetime = lifetime
        self._limit = limit
        self._make_secret = make_secret
        self._sessions: dict[str, Session] = {}  # digest -> session, least recently used first

    @property
    def idle_seconds(self) -> float:
        return self._idle

    @property
    def lifetime_seconds(self) -> float:
        return self._lifetime

    def open(self, user: str) -> str:
        """A new session's id (the secret the cookie carries)."""
        now = self._clock.monotonic()
        self._forget_expired(now)
        while len(self._sessions) >= self._limit:
            del self._sessions[next(iter(self._sessions))]
        session_id = self._make_secret()
        self._sessions[digest(session_id)] = Session(user=user, started=now, last_used=now)
        return session_id

    def lookup(self, session_id: str) -> Session | None:
        """The live session with this id, now marked as used; None if there is none."""
        key = digest(session_id)
        session = self._sessions.pop(key, None)
        now = self._clock.monotonic()
        if session is None or session.expired(now, idle=self._idle, lifetime=self._lifetime):
            return None
        session = replace(session, last_used=now)
        self._sessions[key] = session  # to the end: most recently used
        return session

    def close(self, session_id: str) -> bool:
        """Ends the session; False if it was not open."""
        return self._sessions.pop(digest(session_id), None) is not None

    def __len__(self) -> int:
        self._forget_expired(self._clock.monotonic())
        return len(self._sessions)

    def _forget_expired(self, now: float) -> None:
        gone = [
            key
            for key, s in self._sessions.items()
            if s.expired(now, idle=self._idle, lifetime=self._lifetime)
        ]
        for key in gone:
            del self._sessions[key]
