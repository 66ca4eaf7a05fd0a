"""Numbered channels over a WebSocket: the ``*.channel.k8s.io`` protocols of exec, attach and
the Python client's port-forward.

Each message is one channel's data, its first byte the channel number. The binary protocols
(``channel.k8s.io``, ``v4.channel.k8s.io``, ``v5.channel.k8s.io``) carry raw bytes; the base64
ones (``base64.channel.k8s.io``, ``v4.base64.channel.k8s.io``) carry text: the channel as an
ASCII digit, then the data in base64. As the kubelet's reader does, a binary protocol takes
the client's text messages too (the Python client sends ``write_stdin("…")`` as text), and a
message for a channel that does not exist is dropped. ``v5`` adds the CLOSE signal
``[255, channel]``: the client half-closes one channel.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass

from aiohttp import WSMsgType, web

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
BASE64_PROTOCOLS = frozenset({V4_BASE64, V1_BASE64})
CLOSE = 255


class ChannelProtocolError(Exception):
    """The client broke the channel protocol; the connection ends (as the kubelet's does)."""


@dataclass(frozen=True, slots=True)
class Message:
    channel: int
    data: bytes
    close: bool = False  # a v5 CLOSE signal: ``channel`` has no more data


@dataclass(frozen=True, slots=True)
class ChannelCodec:
    base64: bool = False
    stream_close: bool = False  # v5's CLOSE signal is understood

    @classmethod
    def for_protocol(cls, protocol: str | None) -> ChannelCodec:
        return cls(base64=protocol in BASE64_PROTOCOLS, stream_close=protocol == V5)

    def encode(self, channel: int, data: bytes) -> bytes | str:
        if self.base64:
            return chr(ord("0") + channel) + base64.b64encode(data).decode()
        return bytes((channel,)) + data

    def decode(self, raw: bytes) -> Message | None:
        """The message a client sent; None for one to drop (empty, or undecodable base64)."""
        if not raw:
            return None
        if self.stream_close and raw[0] == CLOSE:
            if len(raw) != 2:
                raise ChannelProtocolError(
                    f"Single channel byte should follow stream close signal. Got {len(raw) - 1}"
                    " bytes"
                )
            return Message(self._channel(raw[1]), b"", close=True)
        channel, payload = self._channel(raw[0]), raw[1:]
        if self.base64:
            try:
                payload = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                return None
        return Message(channel, payload)

    def _channel(self, byte: int) -> int:
        return byte - ord("0") if self.base64 else byte


class ChannelSocket:
    """An accepted WebSocket speaking one of the channel protocols."""

    def __init__(self, ws: web.WebSocketResponse, codec: ChannelCodec) -> None:
        self.ws = ws
        self.codec = codec
        self._lock = asyncio.Lock()

    async def send(self, channel: int, data: bytes) -> None:
        """Raises ConnectionResetError once the client has gone."""
        if self.ws.closed:
            raise ConnectionResetError("the WebSocket is closed")
        frame = self.codec.encode(channel, data)
        async with self._lock:
            if isinstance(frame, str):
                await self.ws.send_str(frame)
            else:
                await self.ws.send_bytes(frame)

    async def receive(self) -> Message | None:
        """The client's next message; None once it has closed the connection."""
        while True:
            msg = await self.ws.receive()
            if msg.type is WSMsgType.BINARY:
                raw = bytes(msg.data)
            elif msg.type is WSMsgType.TEXT:
                raw = str(msg.data).encode()
            elif msg.type in (WSMsgType.PING, WSMsgType.PONG):
                continue
            else:
                return None
            decoded = self.codec.decode(raw)
            if decoded is not None:
                return decoded

    async def close(self) -> None:
        await self.ws.close()


def websocket(protocols: tuple[str, ...]) -> web.WebSocketResponse:
    """A WebSocket response offering ``protocols`` (the client's order decides), with no
    message size limit and no heartbeat of our own (clients ping; pings are answered)."""
    return web.WebSocketResponse(protocols=protocols, heartbeat=None, max_msg_size=0)
