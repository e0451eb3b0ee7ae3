"""Correctness checks run before timing (outside the timed region)."""

from __future__ import annotations

from typing import Any, List

import impls as I
import workloads as W


def check_decoded(impl: I.Impl, name: str, result: Any, normalize: I.Normalize) -> None:
    got = normalize(result)
    want: List[W.Normal] = [W.expected(s) for s in W.messages_of(name)]
    if len(got) != len(want):
        raise AssertionError(f"{impl.name} {name}: {len(got)} messages, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            raise AssertionError(
                f"{impl.name} {name}: message {i} decoded wrong:\n{g!r:.300}\n{w!r:.300}"
            )
    if isinstance(impl, I.Ours):
        types = impl.wire_types(result)
        want_types = [tuple(code for _, code, _ in s.headers) for s in W.messages_of(name)]
        if types != want_types:
            raise AssertionError(f"{impl.name} {name}: wire types differ")


def check_encoded(impl: I.Impl, name: str, result: Any) -> None:
    got = result if isinstance(result, list) else [result]
    want = [s.wire for s in W.messages_of(name)]
    if len(got) != len(want) or any(bytes(g) != w for g, w in zip(got, want)):
        raise AssertionError(f"{impl.name} {name}: encoded bytes differ from the canonical bytes")


def info(benchmark: Any, op: str, name: str, impl: str) -> None:
    w = W.workload(name)
    benchmark.group = f"{op} {name}"
    benchmark.extra_info.update(
        op=op, workload=name, impl=impl, bytes=w.nbytes, messages=W.messages_per_op(name)
    )
