"""Run an offline server on its own event loop in a background thread, for synchronous tests."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any, Generic, Optional, Type, TypeVar

from ._base import ServerBase

__all__ = ["ServerThread"]

_Server = TypeVar("_Server", bound=ServerBase)


class ServerThread(Generic[_Server]):
    """``with ServerThread(BedrockServer()) as server:`` serves until the block ends.

    Start and stop each wait at most ``timeout`` seconds; a server that fails to start
    raises its error here.
    """

    def __init__(self, server: _Server, *, timeout: float = 10.0) -> None:
        self.server = server
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"{type(server).__name__}-loop", daemon=True
        )

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout)

    def __enter__(self) -> _Server:
        self._thread.start()
        try:
            self._call(self.server.start())
        except BaseException:
            self._stop_loop()
            raise
        return self.server

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        try:
            self._call(self.server.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.timeout)
        if not self._thread.is_alive():
            self._loop.close()
