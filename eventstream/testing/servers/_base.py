"""What every offline server shares: bounds, the async context manager, connection tracking."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from pathlib import Path
from types import TracebackType
from typing import Any, List, NamedTuple, Optional, Sequence, Set, Type, TypeVar, Union

__all__ = ["LOOPBACK", "ServerBase", "ServerLimits", "load_script"]

LOOPBACK = "127.0.0.1"

_Self = TypeVar("_Self", bound="ServerBase")


class ServerLimits(NamedTuple):
    """Bounds that keep a test server from being the thing that hangs or eats memory.

    ``max_connections`` open at once (more get refused with 503), ``max_message_size`` bytes
    of one request body, WebSocket message or HTTP/2 event frame, ``idle_timeout`` seconds
    without any byte from the client before the connection is dropped, and ``max_duration``
    seconds of one connection, whatever it does.
    """

    max_connections: int = 64
    max_message_size: int = 1 << 20
    idle_timeout: float = 30.0
    max_duration: float = 600.0


def check_host(host: str, allow_remote: bool) -> str:
    """Refuse a non-loopback bind address unless ``allow_remote`` says so."""
    if allow_remote:
        return host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"host {host!r} is not a loopback address; pass allow_remote=True to listen on it"
        )
    return host


def url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host else host


def load_script(script: Union[Sequence[str], str, Path, None]) -> List[str]:
    """Phrases from a list, or from a text file with one phrase per line (blank lines skipped)."""
    if script is None:
        return []
    if isinstance(script, (str, Path)):
        lines = Path(script).read_text(encoding="utf-8").splitlines()
    else:
        lines = list(script)
    phrases = [line.strip() for line in lines if line.strip()]
    if isinstance(script, (str, Path)) and not phrases:
        raise ValueError(f"script file {str(script)!r} holds no phrase")
    return phrases


class ServerBase:
    """Starts on ``async with`` (or :meth:`start`), stops and drops every connection on exit
    (or :meth:`close`).  Subclasses open their listeners in :meth:`_open` and register each
    connection's task with :meth:`_track`."""

    def __init__(
        self, *, host: str, limits: Optional[ServerLimits], allow_remote: bool = False
    ) -> None:
        self.host = check_host(host, allow_remote)
        self.limits = limits or ServerLimits()
        if self.limits.max_connections < 1 or self.limits.max_message_size < 1:
            raise ValueError(f"limits must allow at least one connection and byte: {limits}")
        self._servers: List[Any] = []
        self._tasks: Set[asyncio.Task[Any]] = set()
        self._started = False

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._tasks)

    async def start(self: _Self) -> _Self:
        if self._started:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self._started = True
        try:
            await self._open()
        except BaseException:
            await self.close()
            raise
        return self

    async def _open(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _track(self) -> bool:
        """Register the running connection task; False when the server is full."""
        task = asyncio.current_task()
        assert task is not None
        if len(self._tasks) >= self.limits.max_connections:
            return False
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def close(self) -> None:
        """Stop listening, cancel open connections and wait for them to end."""
        for server in self._servers:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)
        self._servers.clear()

    async def __aenter__(self: _Self) -> _Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.close()
