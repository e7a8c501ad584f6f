"""A small Debug Adapter Protocol client over TCP, enough to drive Delve's DAP server in tests.

DAP frames are `Content-Length: N\\r\\n\\r\\n` + N bytes of JSON. Requests get responses matched by
`request_seq`; events arrive in between and are queued until a test waits for them. Every read is bounded
by a deadline, so a debugger that never answers fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Self


class DapError(AssertionError):
    pass


class DapClient:
    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buf = b""
        self._seq = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _read(self, deadline: float) -> dict[str, Any]:
        while True:
            head, sep, rest = self._buf.partition(b"\r\n\r\n")
            if sep:
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                if len(rest) >= length:
                    self._buf = rest[length:]
                    return json.loads(rest[:length])
            left = deadline - time.monotonic()
            if left <= 0:
                raise DapError("timed out waiting for a DAP message")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise DapError("the debugger closed the connection")
            self._buf += chunk

    def request(self, command: str, arguments: dict[str, Any] | None = None, *, ok: bool = True) -> dict[str, Any]:
        """Send a request and return its response; events seen meanwhile are queued."""
        self._seq += 1
        seq = self._seq
        self._send({"seq": seq, "type": "request", "command": command, "arguments": arguments or {}})
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._read(deadline)
            if msg.get("type") == "event":
                self.events.append(msg)
            elif msg.get("type") == "response" and msg.get("request_seq") == seq:
                if ok and not msg.get("success"):
                    raise DapError(f"{command} failed: {msg.get('message')} {msg.get('body')}")
                return msg

    def wait_event(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        """The first queued or arriving event called `name` (earlier ones of that name are consumed)."""
        for i, ev in enumerate(self.events):
            if ev.get("event") == name:
                return self.events.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read(deadline)
            if msg.get("type") == "event" and msg.get("event") == name:
                return msg
            if msg.get("type") == "event":
                self.events.append(msg)
