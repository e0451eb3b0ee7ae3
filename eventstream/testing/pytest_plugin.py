"""pytest fixtures for the offline servers.  Enable them in a ``conftest.py``::

    pytest_plugins = ["eventstream.testing.pytest_plugin"]

Each server runs on its own event loop in a background thread, so any test can use it:
synchronous ones, and async ones on whatever loop their plugin gives them.  The server stops
(and drops its connections) when the test ends.

- ``transcribe_server``: a :class:`~eventstream.testing.TranscribeServer` with the default
  script; ``transcribe_server_factory(**options)`` starts one with your options
  (``script=[...]``, ``seconds_per_word=0.1``, ``audio_timeout=1``, ...).
- ``bedrock_server`` and ``bedrock_server_factory(**options)`` likewise
  (``script=[...]``, ``fault="exception@2"``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, List, TypeVar

if TYPE_CHECKING:
    from .servers._thread import ServerThread
    from .servers.bedrock import BedrockServer
    from .servers.transcribe import TranscribeServer

    _F = TypeVar("_F", bound=Callable[..., Any])

    # pytest's sources use `match`, which mypy refuses under the package's Python 3.9
    # target: the decorator is described here instead of imported for the type check.
    def fixture(function: _F) -> _F: ...
else:
    from pytest import fixture


def _factory(make: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    from .servers._thread import ServerThread

    running: List[ServerThread[Any]] = []

    def start(**options: Any) -> Any:
        thread = ServerThread(make(**options))
        server = thread.__enter__()
        running.append(thread)
        return server

    try:
        yield start
    finally:
        for thread in reversed(running):
            thread.__exit__(None, None, None)


@fixture
def transcribe_server_factory() -> Iterator[Callable[..., TranscribeServer]]:
    """``start(**options)`` -> a running TranscribeServer (stopped after the test)."""
    from .servers.transcribe import TranscribeServer

    yield from _factory(TranscribeServer)


@fixture
def transcribe_server(
    transcribe_server_factory: Callable[..., TranscribeServer],
) -> TranscribeServer:
    """A running TranscribeServer with the default script."""
    return transcribe_server_factory()


@fixture
def bedrock_server_factory() -> Iterator[Callable[..., BedrockServer]]:
    """``start(**options)`` -> a running BedrockServer (stopped after the test)."""
    from .servers.bedrock import BedrockServer

    yield from _factory(BedrockServer)


@fixture
def bedrock_server(bedrock_server_factory: Callable[..., BedrockServer]) -> BedrockServer:
    """A running BedrockServer that echoes the prompt."""
    return bedrock_server_factory()
