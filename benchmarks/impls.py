"""Adapters: every implementation behind the same three operations.

An implementation turns a workload into a zero-argument callable that does
exactly the work being timed and returns its result, plus a function that
maps that result to the normal form of :mod:`workloads` (outside the timed
region).  Missing peers are reported with the reason, never raised.

Implementations (ids used in benchmark names and the comparison table):

* ``python``, ``c`` -- this package's two backends, switched in-process with
  ``eventstream._active.use``;
* ``botocore`` -- ``botocore.eventstream`` (decode only): a long-lived
  ``EventStreamBuffer`` fed with ``add_data`` and advanced with ``next``;
* ``amazon_transcribe`` -- ``amazon_transcribe.eventstream``: the same buffer
  (a copy of botocore's) and ``EventStreamMessageSerializer.serialize``;
* ``smithy`` -- ``smithy_aws_event_stream.events`` (Python 3.12+):
  ``Event.decode(BytesIO)``, ``EventMessage.encode()``, and for streams its
  only incremental path, ``Event.decode_async`` over an ``AsyncBytesReader``
  (driven without an event loop, which flatters it a little).
"""

from __future__ import annotations

import datetime
import importlib
import io
from typing import Any, Callable, Dict, List, Tuple

import workloads as W

Run = Callable[[], Any]
Normalize = Callable[[Any], List[W.Normal]]

OURS = ("python", "c")
PEERS = ("botocore", "amazon_transcribe", "smithy")
ALL = OURS + PEERS


class Unavailable(Exception):
    """The implementation (or this operation of it) cannot be benchmarked here."""


def _epoch() -> datetime.datetime:
    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _datetime(ms: int) -> datetime.datetime:
    return _epoch() + datetime.timedelta(milliseconds=ms)


def _peer_value(code: int, value: Any, widths: Dict[int, Callable[[Any], Any]]) -> Any:
    """A workload header value as a peer's encoder takes it: ``widths`` maps the
    integer type codes to the peer's wrapper types; timestamps become datetimes,
    UUIDs ``uuid.UUID``; bool, bytes and str pass as they are."""
    if code in widths:
        return widths[code](value)
    if code == W.TIMESTAMP:
        return _datetime(value)
    if code == W.UUID:
        import uuid

        return uuid.UUID(bytes=value)
    return value


def _drive(coro: Any) -> Any:
    """Run a coroutine that never waits on the event loop, without a loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("coroutine waited on an event loop")


class Impl:
    name = ""
    kind = "peer"
    ops: Tuple[str, ...] = ("decode", "encode", "stream")

    def __init__(self) -> None:
        self.reason: str | None = None
        try:
            self.load()
        except ModuleNotFoundError as exc:
            self.reason = f"not installed ({exc.name} not found)"
            if getattr(self, "backend", None) == "c":
                self.reason = f"not built ({exc.name} not found)"
        except Exception as exc:  # a peer that is present but broken is reported too
            self.reason = f"{type(exc).__name__}: {exc}"

    @property
    def available(self) -> bool:
        return self.reason is None

    def load(self) -> None:
        raise NotImplementedError

    def activate(self) -> None:
        """Make this implementation the active one (ours: switch the backend)."""

    def deactivate(self) -> None:
        pass

    def supports(self, op: str) -> bool:
        return op in self.ops

    # Each returns (run, normalize); ``run`` is what gets timed.
    def decoder(self, name: str) -> Tuple[Run, Normalize]:
        raise Unavailable(f"{self.name} cannot decode")

    def encoder(self, name: str) -> Run:
        raise Unavailable(f"{self.name} cannot encode")

    def streamer(self, name: str) -> Tuple[Run, Normalize]:
        raise Unavailable(f"{self.name} has no incremental decoder")


# ---------------------------------------------------------------- this package


class Ours(Impl):
    kind = "ours"

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.name = backend
        self._previous: Any = None
        super().__init__()

    def load(self) -> None:
        import eventstream
        from eventstream import _active, _select

        self.es = eventstream
        self._active = _active
        self.module = _select.load(self.backend)  # ModuleNotFoundError when not built

    def activate(self) -> None:
        self._previous = self._active.use(self.backend)

    def deactivate(self) -> None:
        if self._previous is not None:
            self._active.restore(self._previous)
            self._previous = None

    def _normal(self, m: Any) -> W.Normal:
        return tuple((h.name, W.normal_value(h.value)) for h in m.headers), m.payload

    def wire_types(self, result: Any) -> List[Tuple[int, ...]]:
        items = result if isinstance(result, list) else [result]
        return [tuple(int(h.type) for h in m.headers) for m in items]

    def decoder(self, name: str) -> Tuple[Run, Normalize]:
        decode = self.es.decode
        w = W.workload(name)
        if isinstance(w, W.Single):
            data = w.wire

            def run() -> Any:
                m = decode(data)
                len(m.headers)
                len(m.payload)
                return m

            return run, lambda m: [self._normal(m)]
        wires = [s.wire for s in w.messages]

        def run_many() -> Any:
            out = []
            for data in wires:
                m = decode(data)
                len(m.headers)
                len(m.payload)
                out.append(m)
            return out

        return run_many, lambda ms: [self._normal(m) for m in ms]

    def build_message(self, spec: W.Single) -> Any:
        es = self.es
        headers = [es.Header(name, code, value) for name, code, value in spec.headers]
        return es.Message(headers, spec.payload)

    def encoder(self, name: str) -> Run:
        encode = self.es.encode
        w = W.workload(name)
        if isinstance(w, W.Single):
            message = self.build_message(w)
            return lambda: encode(message)
        messages = [self.build_message(s) for s in w.messages]
        return lambda: [encode(m) for m in messages]

    def streamer(self, name: str) -> Tuple[Run, Normalize]:
        Decoder = self.es.Decoder
        chunks = W.stream(name).chunks

        def run() -> Any:
            decoder = Decoder()
            feed = decoder.feed
            out = []
            for chunk in chunks:
                for m in feed(chunk):
                    len(m.headers)
                    len(m.payload)
                    out.append(m)
            decoder.close()
            return out

        return run, lambda ms: [self._normal(m) for m in ms]


# ---------------------------------------------------------------- botocore and its copy


class BotocoreLike(Impl):
    module_name = ""

    def load(self) -> None:
        self.mod = importlib.import_module(self.module_name)

    @staticmethod
    def _normal(m: Any) -> W.Normal:
        return tuple((k, W.normal_value(v)) for k, v in m.headers.items()), m.payload

    def decoder(self, name: str) -> Tuple[Run, Normalize]:
        buf = self.mod.EventStreamBuffer()  # long-lived: the peer's best case
        add_data = buf.add_data
        nxt = buf.next
        w = W.workload(name)
        if isinstance(w, W.Single):
            data = w.wire

            def run() -> Any:
                add_data(data)
                m = nxt()
                len(m.headers)
                len(m.payload)
                return m

            return run, lambda m: [self._normal(m)]
        wires = [s.wire for s in w.messages]

        def run_many() -> Any:
            out = []
            for data in wires:
                add_data(data)
                m = nxt()
                len(m.headers)
                len(m.payload)
                out.append(m)
            return out

        return run_many, lambda ms: [self._normal(m) for m in ms]

    def streamer(self, name: str) -> Tuple[Run, Normalize]:
        Buffer = self.mod.EventStreamBuffer
        chunks = W.stream(name).chunks

        def run() -> Any:
            buf = Buffer()
            add_data = buf.add_data
            out = []
            for chunk in chunks:
                add_data(chunk)
                for m in buf:
                    len(m.headers)
                    len(m.payload)
                    out.append(m)
            return out

        return run, lambda ms: [self._normal(m) for m in ms]


class Botocore(BotocoreLike):
    name = "botocore"
    module_name = "botocore.eventstream"
    ops = ("decode", "stream")


class AmazonTranscribe(BotocoreLike):
    name = "amazon_transcribe"
    module_name = "amazon_transcribe.eventstream"

    def _value(self, code: int, value: Any) -> Any:
        m = self.mod
        widths = {
            W.BYTE: m.Int8HeaderValue,
            W.INT16: m.Int16HeaderValue,
            W.INT32: m.Int32HeaderValue,
            W.INT64: m.Int64HeaderValue,
        }
        return _peer_value(code, value, widths)

    def encoder(self, name: str) -> Run:
        serialize = self.mod.EventStreamMessageSerializer().serialize
        w = W.workload(name)

        def args(spec: W.Single) -> Tuple[Dict[str, Any], bytes]:
            return {n: self._value(c, v) for n, c, v in spec.headers}, spec.payload

        if isinstance(w, W.Single):
            headers, payload = args(w)
            return lambda: serialize(headers, payload)
        items = [args(s) for s in w.messages]
        return lambda: [serialize(h, p) for h, p in items]


# ---------------------------------------------------------------- smithy


class Smithy(Impl):
    name = "smithy"

    def load(self) -> None:
        self.events = importlib.import_module("smithy_aws_event_stream.events")
        self.aio_types = importlib.import_module("smithy_core.aio.types")

    @staticmethod
    def _normal(event: Any) -> W.Normal:
        message = event.message
        return (
            tuple((k, W.normal_value(v)) for k, v in message.headers.items()),
            message.payload,
        )

    def decoder(self, name: str) -> Tuple[Run, Normalize]:
        decode = self.events.Event.decode
        BytesIO = io.BytesIO
        w = W.workload(name)
        if isinstance(w, W.Single):
            data = w.wire

            def run() -> Any:
                e = decode(BytesIO(data))
                m = e.message
                len(m.headers)
                len(m.payload)
                return e

            return run, lambda e: [self._normal(e)]
        wires = [s.wire for s in w.messages]

        def run_many() -> Any:
            out = []
            for data in wires:
                e = decode(BytesIO(data))
                m = e.message
                len(m.headers)
                len(m.payload)
                out.append(e)
            return out

        return run_many, lambda es: [self._normal(e) for e in es]

    def _value(self, code: int, value: Any) -> Any:
        ev = self.events
        # int32 is a plain int here
        return _peer_value(code, value, {W.BYTE: ev.Byte, W.INT16: ev.Short, W.INT64: ev.Long})

    def encoder(self, name: str) -> Run:
        EventMessage = self.events.EventMessage
        w = W.workload(name)

        def build(spec: W.Single) -> Any:
            headers = {n: self._value(c, v) for n, c, v in spec.headers}
            return EventMessage(headers=headers, payload=spec.payload)

        if isinstance(w, W.Single):
            return build(w).encode
        messages = [build(s) for s in w.messages]
        return lambda: [m.encode() for m in messages]

    def streamer(self, name: str) -> Tuple[Run, Normalize]:
        decode_async = self.events.Event.decode_async
        AsyncBytesReader = self.aio_types.AsyncBytesReader
        chunks = W.stream(name).chunks

        async def source() -> Any:
            for chunk in chunks:
                yield chunk

        async def consume() -> Any:
            reader = AsyncBytesReader(source())
            out = []
            while True:
                e = await decode_async(reader)
                if e is None:
                    return out
                m = e.message
                len(m.headers)
                len(m.payload)
                out.append(e)

        return lambda: _drive(consume()), lambda es: [self._normal(e) for e in es]


# ---------------------------------------------------------------- registry


def all_impls() -> Dict[str, Impl]:
    return {
        "python": Ours("python"),
        "c": Ours("c"),
        "botocore": Botocore(),
        "amazon_transcribe": AmazonTranscribe(),
        "smithy": Smithy(),
    }


# ---------------------------------------------------------------- CRC32


def crc_impls() -> Dict[str, Tuple[Callable[..., int] | None, str | None]]:
    """``{name: (crc32 function or None, reason it is missing or None)}``."""
    found: Dict[str, Tuple[Callable[..., int] | None, str | None]] = {}

    def add(name: str, loader: Callable[[], Callable[..., int]]) -> None:
        try:
            found[name] = (loader(), None)
        except ModuleNotFoundError as exc:
            found[name] = (
                None,
                f"not {'built' if name == 'c' else 'installed'} ({exc.name} not found)",
            )
        except Exception as exc:
            found[name] = (None, f"{type(exc).__name__}: {exc}")

    def ours(backend: str) -> Callable[..., int]:
        from eventstream import _select

        return _select.load(backend).crc32  # type: ignore[no-any-return]

    add("python", lambda: ours("python"))
    add("c", lambda: ours("c"))
    add("zlib", lambda: importlib.import_module("zlib").crc32)
    add("isal", lambda: importlib.import_module("isal.isal_zlib").crc32)
    add("zlib-ng", lambda: importlib.import_module("zlib_ng.zlib_ng").crc32)
    add("awscrt", lambda: importlib.import_module("awscrt.checksums").crc32)
    return found
