"""A Bedrock-style response-stream server over HTTP/1.1 chunked encoding (asyncio, stdlib).

``POST /model/{modelId}/converse-stream`` answers in the ConverseStream shape (messageStart,
contentBlockDelta..., contentBlockStop, messageStop, metadata) and
``POST /model/{modelId}/invoke-with-response-stream`` in ``chunk`` envelopes, one HTTP chunk
per frame, as the service does.  The text comes from a script (phrases answered in turn) or,
without one, echoes the prompt.  A :class:`BedrockFault` makes every answer fail one way.
Requests are not authenticated: the server is for testing how a client reads the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..builders import converse_stream, invoke_stream, stream
from ..mutators import cut_mid_frame, frame_spans, html_error_page, splice_error, splice_exception
from ._base import LOOPBACK, ServerBase, ServerLimits, load_script, url_host

__all__ = ["BEDROCK_FAULTS", "BedrockFault", "BedrockServer", "parse_fault"]

BEDROCK_FAULTS = {
    "exception": "a modelStreamErrorException frame after N frames, then the body ends",
    "error-frame": "an error frame (:error-code/:error-message) after N frames",
    "stop": "the body ends cleanly after N whole frames, before messageStop and metadata",
    "cut": "the body ends cleanly in the middle of frame N (a proxy that gave up)",
    "drop": "the connection closes in the middle of frame N (no final chunk)",
    "json-error": "400 with a JSON ValidationException body instead of a stream",
    "throttle": "429 with a JSON ThrottlingException body",
    "html": "502 with an HTML page, as a load balancer sends",
    "trickle": "the whole stream, a few bytes at a time with pauses",
}

_ROUTE = re.compile(r"^/model/([^/]+)/(converse-stream|invoke-with-response-stream)$")
_MAX_HEAD = 16 * 1024
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


class BedrockFault(NamedTuple):
    """A failure injected into every answer: ``kind`` (one of :data:`BEDROCK_FAULTS`),
    ``after`` (frames sent whole before it), and for ``trickle`` the piece size and pause."""

    kind: str
    after: int = 2
    trickle_bytes: int = 7
    trickle_delay: float = 0.002


def parse_fault(text: str) -> BedrockFault:
    """``KIND`` or ``KIND@N`` (N frames before the fault) -> :class:`BedrockFault`."""
    kind, _, after = text.partition("@")
    if kind not in BEDROCK_FAULTS:
        raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(BEDROCK_FAULTS)}")
    if not after:
        return BedrockFault(kind)
    if not after.isdigit():
        raise ValueError(f"fault {text!r}: what follows '@' must be a frame count")
    return BedrockFault(kind, int(after))


def _pieces(text: str) -> List[str]:
    """Text as a model streams it: one piece per word, each with its leading space."""
    words = text.split()
    return [word if i == 0 else " " + word for i, word in enumerate(words)] or [""]


class _HttpError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BedrockServer(ServerBase):
    """Serve Bedrock-style response streams on loopback; ``async with`` starts and stops it.

    ``endpoint`` is the base URL (``http://127.0.0.1:PORT``); post to
    ``{endpoint}/model/{modelId}/converse-stream`` or ``.../invoke-with-response-stream``.
    ``requests`` lists what was asked (model id, operation, parsed JSON body).
    """

    def __init__(
        self,
        script: Union[Sequence[str], str, Path, None] = None,
        *,
        fault: Union[BedrockFault, str, None] = None,
        host: str = LOOPBACK,
        port: int = 0,
        limits: Optional[ServerLimits] = None,
        allow_remote: bool = False,
    ) -> None:
        super().__init__(host=host, limits=limits, allow_remote=allow_remote)
        self.script = load_script(script)
        self.fault = parse_fault(fault) if isinstance(fault, str) else fault
        self.port = port
        self.requests: List[Dict[str, Any]] = []
        self._answered = 0

    @property
    def endpoint(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    def url(self, model_id: str = "test.model-v1", operation: str = "converse-stream") -> str:
        return f"{self.endpoint}/model/{model_id}/{operation}"

    async def _open(self) -> None:
        server = await asyncio.start_server(self._connection, self.host, self.port, limit=_MAX_HEAD)
        self._servers.append(server)
        self.port = server.sockets[0].getsockname()[1]

    # -- one connection, one request (the answer says Connection: close)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not self._track():
                # Read the request (briefly) first: closing on unread bytes resets the
                # connection, and the client would never see the 503.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._read_request(reader), 1.0)
                await self._send_json(
                    writer,
                    503,
                    "ServiceUnavailableException",
                    "Too many connections to the test server.",
                )
                return
            await asyncio.wait_for(self._serve(reader, writer), self.limits.max_duration)
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away or stalled: nothing to answer
        except asyncio.CancelledError:
            pass  # the server is closing: this connection ends here
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            model_id, operation, body = await self._read_request(reader)
        except _HttpError as exc:
            await self._send_json(writer, exc.status, "ValidationException", exc.reason)
            return
        self.requests.append({"model_id": model_id, "operation": operation, "body": body})
        fault = self.fault
        if fault is not None and fault.kind == "json-error":
            await self._send_json(
                writer,
                400,
                "ValidationException",
                "Malformed input request, please reformat your input and try again.",
            )
            return
        if fault is not None and fault.kind == "throttle":
            await self._send_json(
                writer,
                429,
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
            )
            return
        if fault is not None and fault.kind == "html":
            page = html_error_page(502, "Bad Gateway")
            await self._send_whole(writer, 502, "Bad Gateway", "text/html", page)
            return
        text = self._answer_text(body)
        messages = (
            converse_stream(_pieces(text))
            if operation == "converse-stream"
            else invoke_stream(_pieces(text))
        )
        data = stream(messages)
        head = [
            "HTTP/1.1 200 OK",
            "Content-Type: application/vnd.amazon.eventstream",
            "Transfer-Encoding: chunked",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            "Connection: close",
        ]
        if operation == "invoke-with-response-stream":
            head.append("X-Amzn-Bedrock-Content-Type: application/json")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await self._send_body(writer, data, fault)

    async def _send_body(
        self, writer: asyncio.StreamWriter, data: bytes, fault: Optional[BedrockFault]
    ) -> None:
        kind = fault.kind if fault is not None else None
        after = min(fault.after, len(frame_spans(data)) - 1) if fault is not None else 0
        if kind == "exception":
            data = splice_exception(
                data,
                after,
                "modelStreamErrorException",
                "The model stream was interrupted. Try your request again.",
                message_key="message",
            )
        elif kind == "error-frame":
            data = splice_error(data, after, "InternalServerException", "Internal server error.")
        elif kind in ("cut", "drop"):
            data = cut_mid_frame(data, frame=after)
        elif kind == "stop":
            data = data[: frame_spans(data)[after][0]]
        if kind == "trickle":
            assert fault is not None
            step = max(1, fault.trickle_bytes)
            for start in range(0, len(data), step):
                await self._chunk(writer, data[start : start + step])
                await asyncio.sleep(fault.trickle_delay)
        else:
            spans = frame_spans(data) if kind not in ("cut", "drop") else _partial_spans(data)
            for start, end in spans:
                await self._chunk(writer, data[start:end])
        if kind == "drop":
            transport = writer.transport
            transport.abort()  # no final chunk: the client sees the connection die
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _chunk(self, writer: asyncio.StreamWriter, piece: bytes) -> None:
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()

    def _answer_text(self, body: Any) -> str:
        if self.script:
            text = self.script[self._answered % len(self.script)]
            self._answered += 1
            return text
        return "You said: " + (_prompt(body) or "nothing")

    # -- HTTP/1.1 plumbing

    async def _read_request(self, reader: asyncio.StreamReader) -> Tuple[str, str, Any]:
        idle = self.limits.idle_timeout
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), idle)
        except asyncio.LimitOverrunError:
            raise _HttpError(431, "Request header fields too large.") from None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _HttpError(400, "Malformed request line.")
        method, target, _ = parts
        headers: Dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _HttpError(411, "Send the request body with a Content-Length.")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _HttpError(400, "Content-Length is not a number.") from None
        if length < 0:
            raise _HttpError(400, "Content-Length is negative.")
        if length > self.limits.max_message_size:
            # Read what was sent (up to a bound) so that closing does not reset the
            # connection before the client reads the answer.
            await self._discard(reader, min(length, 16 * self.limits.max_message_size))
            raise _HttpError(
                413, f"Request body of {length} bytes; at most {self.limits.max_message_size}."
            )
        raw = await asyncio.wait_for(reader.readexactly(length), idle) if length else b""
        route = _ROUTE.match(target.split("?", 1)[0])
        if method != "POST" or route is None:
            raise _HttpError(
                404,
                f"Unknown operation {method} {target[:200]}; "
                "use POST /model/{modelId}/converse-stream or .../invoke-with-response-stream.",
            )
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise _HttpError(400, "The request body is not JSON.") from None
        return route.group(1), route.group(2), body

    async def _discard(self, reader: asyncio.StreamReader, length: int) -> None:
        while length > 0:
            piece = await asyncio.wait_for(
                reader.read(min(length, 65536)), self.limits.idle_timeout
            )
            if not piece:
                return
            length -= len(piece)

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, error_type: str, message: str
    ) -> None:
        reasons = {400: "Bad Request", 404: "Not Found", 411: "Length Required"}
        reasons.update({413: "Payload Too Large", 429: "Too Many Requests"})
        reasons.update({431: "Request Header Fields Too Large", 503: "Service Unavailable"})
        body = json.dumps({"message": message}).encode("utf-8")
        await self._send_whole(
            writer,
            status,
            reasons.get(status, "Error"),
            "application/json",
            body,
            extra=f"x-amzn-ErrorType: {error_type}{_ERROR_TYPE_SUFFIX}\r\n",
        )

    async def _send_whole(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        reason: str,
        content_type: str,
        body: bytes,
        extra: str = "",
    ) -> None:
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nx-amzn-RequestId: {uuid.uuid4()}\r\n{extra}"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()


def _partial_spans(data: bytes) -> List[Tuple[int, int]]:
    """Whole frames, then whatever is left of the cut one."""
    spans: List[Tuple[int, int]] = []
    start = 0
    while start < len(data):
        total = int.from_bytes(data[start : start + 4], "big") if len(data) - start >= 4 else 0
        end = start + total
        if total < 16 or end > len(data):
            spans.append((start, len(data)))
            break
        spans.append((start, end))
        start = end
    return spans


def _prompt(body: Any) -> str:
    """The last user text of a Converse or Anthropic-messages request body."""
    if not isinstance(body, dict):
        return ""
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                texts = [c.get("text") for c in content if isinstance(c, dict)]
                return " ".join(t for t in texts if isinstance(t, str))
    prompt = body.get("prompt") or body.get("inputText")
    return prompt if isinstance(prompt, str) else ""
