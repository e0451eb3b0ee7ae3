"""Adapters: every implementation behind the same three operations.

An implementation turns a workload into a zero-argument callable that does
exactly the work being timed and returns its result, plus a function that
maps that result to the normal form of :mod:`workloads` (outside the timed
region).  Missing peers are reported with the reason, never raised.

Every contender starts from the same user-level input:

* encode: a dict of headers and a payload, the dict built afresh for every
  message as a client does (ours: ``encode(Message(headers, payload))``;
  amazon_transcribe: ``serialize(headers, payload)``).  The ``signed``
  workload is two such encodes, the audio event and the frame around it.
  ``encode-message`` (ours only) encodes a prebuilt ``Message``: a secondary
  row for code that keeps its messages;
* decode: the wire bytes; ``decode-keep`` keeps each result until the next
  decode has returned (as a consumer does), ``decode-zerocopy[-keep]`` is
  ``decode(data, copy=False)`` where this version of the package has it;
* stream: a new incremental decoder fed the same chunks.

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
import functools
import importlib
import io
import itertools
from typing import Any, Callable, Dict, List, Tuple

import workloads as W

Run = Callable[[], Any]
Normalize = Callable[[Any], List[W.Normal]]
Items = Tuple[Tuple[str, Any], ...]  # a header dict's items; dict(items) is what is timed

# Timed operations.  The decode variants differ only in how long the caller holds
# each result, or in whether the payload is copied.
DECODE_OPS = ("decode", "decode-keep", "decode-zerocopy", "decode-zerocopy-keep")
OPS = (*DECODE_OPS, "encode", "encode-message", "stream")

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


def _dict_encoder(
    w: Any,
    items_of: Callable[[W.Single], Items],
    single: Callable[[Items, bytes], Run],
    signed: Callable[[Callable[[], Items], Items, bytes], Run],
    one: Callable[[Items, bytes], bytes],
) -> Run:
    """The encode body for a workload, from per-implementation closures.

    ``single(items, payload)`` and ``signed(next_outer, inner, payload)`` return the
    zero-argument bodies (each builds its dicts inside); ``one`` encodes one
    message of a many-message workload."""
    if isinstance(w, W.Single):
        inner = W.inner_of(w)
        if inner is None:
            return single(items_of(w), w.payload)
        return signed(_fresh_signatures(items_of(w)), items_of(inner), inner.payload)
    specs = [(items_of(s), s.payload) for s in w.messages]
    return lambda: [one(items, payload) for items, payload in specs]


# A signer writes a new :chunk-signature into every frame, so no encoder may meet the
# same outer header block twice in a row: each call takes the next of this many variants
# (more than any cache holds), the first of them the canonical frame's signature.
SIGNATURE_VARIANTS = 4096


def _fresh_signatures(outer: Items) -> Callable[[], Items]:
    """A function returning the outer headers with the next distinct signature."""
    variants = []
    for k in range(SIGNATURE_VARIANTS):
        items = []
        for name, value in outer:
            if name == ":chunk-signature" and k:
                assert isinstance(value, bytes) and len(value) == 32, value
                value = k.to_bytes(4, "big") + value[4:]
            items.append((name, value))
        variants.append(tuple(items))
    return itertools.cycle(variants).__next__


class Impl:
    name = ""
    kind = "peer"
    ops: Tuple[str, ...] = ("decode", "decode-keep", "encode", "stream")

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

    def body(self, op: str, name: str) -> Tuple[Run, Normalize | None]:
        """The timed body of ``op`` on workload ``name``; ``normalize`` is None
        for encoders (their result is compared with the canonical bytes)."""
        if not self.supports(op):
            raise Unavailable(f"{self.name} has no {op}")
        if op in DECODE_OPS:
            return self.decoder(name, keep=op.endswith("-keep"), copy="zerocopy" not in op)
        if op == "encode":
            return self.encoder(name), None
        if op == "encode-message":
            return self.message_encoder(name), None
        return self.streamer(name)

    # Each returns (run, normalize); ``run`` is what gets timed.
    def decoder(self, name: str, keep: bool = False, copy: bool = True) -> Tuple[Run, Normalize]:
        raise Unavailable(f"{self.name} cannot decode")

    def message_encoder(self, name: str) -> Run:
        raise Unavailable(f"{self.name} has no message object to prebuild")

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

    def supports(self, op: str) -> bool:
        if "zerocopy" in op:
            return self.has_zero_copy()
        return op in OPS

    def has_zero_copy(self) -> bool:
        """Whether ``decode`` takes ``copy=`` (the opt-in zero-copy payload of issue 10)."""
        import inspect

        return "copy" in inspect.signature(self.es.decode).parameters

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

    def decoder(self, name: str, keep: bool = False, copy: bool = True) -> Tuple[Run, Normalize]:
        decode = self.es.decode
        if not copy:
            decode = functools.partial(decode, copy=False)
        w = W.workload(name)
        if isinstance(w, W.Single):
            data = w.wire
            held: List[Any] = [None]

            def run() -> Any:
                m = decode(data)
                len(m.headers)
                len(m.payload)
                return m

            def run_keep() -> Any:
                m = decode(data)
                len(m.headers)
                len(m.payload)
                held[0] = m  # the previous result lived until now
                return m

            return (run_keep if keep else run), lambda m: [self._normal(m)]
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

    def dict_items(self, spec: W.Single) -> Items:
        """The headers as a client writes them in a dict: plain values where the
        inferred wire type is the workload's, ``(HeaderType, value)`` elsewhere."""
        HT = self.es.HeaderType
        out = []
        for name, code, value in spec.headers:
            if code in (W.BYTE, W.INT16) or (code == W.INT64 and -(2**31) <= value < 2**31):
                value = (HT(code), value)
            else:
                value = _peer_value(code, value, {})
            out.append((name, value))
        return tuple(out)

    def encoder(self, name: str) -> Run:
        encode = self.es.encode
        Message = self.es.Message

        def single(items: Items, payload: bytes) -> Run:
            return lambda: encode(Message(dict(items), payload))

        def signed(next_outer: Callable[[], Items], inner: Items, payload: bytes) -> Run:
            return lambda: encode(
                Message(dict(next_outer()), encode(Message(dict(inner), payload)))
            )

        def one(items: Items, payload: bytes) -> bytes:
            return encode(Message(dict(items), payload))

        return _dict_encoder(W.workload(name), self.dict_items, single, signed, one)

    def message_encoder(self, name: str) -> Run:
        """Encode a prebuilt Message (its header block may be memoised)."""
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

    def decoder(self, name: str, keep: bool = False, copy: bool = True) -> Tuple[Run, Normalize]:
        if not copy:
            raise Unavailable(f"{self.name} has no zero-copy decode")
        buf = self.mod.EventStreamBuffer()  # long-lived: the peer's best case
        add_data = buf.add_data
        nxt = buf.next
        w = W.workload(name)
        if isinstance(w, W.Single):
            data = w.wire
            held: List[Any] = [None]

            def run() -> Any:
                add_data(data)
                m = nxt()
                len(m.headers)
                len(m.payload)
                return m

            def run_keep() -> Any:
                add_data(data)
                m = nxt()
                len(m.headers)
                len(m.payload)
                held[0] = m
                return m

            return (run_keep if keep else run), lambda m: [self._normal(m)]
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
    ops = ("decode", "decode-keep", "stream")


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

        def items_of(spec: W.Single) -> Items:
            return tuple((n, self._value(c, v)) for n, c, v in spec.headers)

        def single(items: Items, payload: bytes) -> Run:
            return lambda: serialize(dict(items), payload)

        def signed(next_outer: Callable[[], Items], inner: Items, payload: bytes) -> Run:
            return lambda: serialize(dict(next_outer()), serialize(dict(inner), payload))

        def one(items: Items, payload: bytes) -> bytes:
            return serialize(dict(items), payload)  # type: ignore[no-any-return]

        return _dict_encoder(W.workload(name), items_of, single, signed, one)


# ---------------------------------------------------------------- smithy


class Smithy(Impl):
    name = "smithy"
    ops = ("decode", "encode", "stream")

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

    def decoder(self, name: str, keep: bool = False, copy: bool = True) -> Tuple[Run, Normalize]:
        if keep or not copy:
            raise Unavailable("smithy is timed on the plain decode only")
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

        def items_of(spec: W.Single) -> Items:
            return tuple((n, self._value(c, v)) for n, c, v in spec.headers)

        def single(items: Items, payload: bytes) -> Run:
            return lambda: EventMessage(headers=dict(items), payload=payload).encode()

        def signed(next_outer: Callable[[], Items], inner: Items, payload: bytes) -> Run:
            return lambda: EventMessage(
                headers=dict(next_outer()),
                payload=EventMessage(headers=dict(inner), payload=payload).encode(),
            ).encode()

        def one(items: Items, payload: bytes) -> bytes:
            return EventMessage(headers=dict(items), payload=payload).encode()  # type: ignore[no-any-return]

        return _dict_encoder(W.workload(name), items_of, single, signed, one)

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
