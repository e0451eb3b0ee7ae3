"""Every regular expression in the package, run on adversarial inputs (issue 16).

Finds each pattern the source passes to ``re`` as a literal (``re.compile``,
``re.match``, ``re.search``, ...) by walking the AST of every module under
``eventstream/``, so a new pattern is audited without anyone listing it.  For
each, it builds inputs from the pattern's own pieces: every literal run
repeated, runs glued with filler (``<!--a-->`` over and over for a comment
pattern), long runs of each character the pattern names, and deep nesting
of brackets.  Each input grows geometrically; a pattern fails when one search
takes longer than BOUND seconds or the time grows much faster than the input.

Run as a script it prints one line per pattern and exits 1 on a failure;
``tests/test_cli_regex_audit.py`` runs it in a subprocess with a timeout, so an
exponential pattern ends the run instead of hanging it.
"""

from __future__ import annotations

import ast
import multiprocessing
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Set, Tuple, Union

try:  # Python 3.11 moved the parser
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse  # type: ignore[no-redef]

PACKAGE = Path(__file__).resolve().parents[1] / "eventstream"
CALLS = {"compile", "match", "search", "fullmatch", "sub", "subn", "findall", "finditer", "split"}
BOUND = 0.25  # seconds for one search over the largest input
LARGEST = 64 * 1024  # the sniffer's window
PER_PATTERN = 10.0  # seconds before a pattern's audit is called a hang
FILLERS = ("a", " ", "x", "0", "\n", "-", "<", "\r\n")


class Found(NamedTuple):
    where: str  # file:line
    pattern: Union[str, bytes]
    flags: int
    scans: bool  # used with search/sub/findall/...: every start position is tried


SCANNING = {"search", "sub", "subn", "findall", "finditer", "split"}


def _flags(node: ast.Call) -> int:
    """The flags of a call, when they are plain ``re.X`` names (or ``re.X | re.Y``)."""
    value = 0
    method = node.func.attr  # type: ignore[attr-defined]
    position = 3 if method in ("sub", "subn") else 2 if method == "split" else 1
    candidates: List[ast.expr] = [k.value for k in node.keywords if k.arg == "flags"]
    if len(node.args) > position + (1 if method in ("sub", "subn", "split") else 0):
        candidates.append(node.args[-1])
    elif method in ("compile", "match", "search", "fullmatch", "findall", "finditer"):
        candidates.extend(node.args[2:3] if method != "compile" else node.args[1:2])
    for expr in candidates:
        for name in ast.walk(expr):
            if isinstance(name, ast.Attribute) and hasattr(re, name.attr):
                flag = getattr(re, name.attr)
                if isinstance(flag, re.RegexFlag):
                    value |= int(flag)
    return value


def _methods_used(tree: ast.AST) -> Dict[str, Set[str]]:
    """For each name, the methods called on it (``_HTML.match`` -> {"_HTML": {"match"}})."""
    used: Dict[str, Set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            used.setdefault(node.value.id, set()).add(node.attr)
    return used


def find_patterns(root: Path = PACKAGE) -> List[Found]:
    found: List[Found] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = _methods_used(tree)
        assigned: Dict[int, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and isinstance(node.value, ast.Call):
                    assigned[id(node.value)] = target.id
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, (str, bytes))
            ):
                continue
            method = node.func.attr
            if method == "compile":
                name = assigned.get(id(node), "")
                # a compiled pattern whose uses cannot be seen is audited as scanning
                scans = (
                    not name
                    or bool(used.get(name, set()) & SCANNING)
                    or (not used.get(name, set()) & {"match", "fullmatch"})
                )
            else:
                scans = method in SCANNING
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            found.append(Found(where, node.args[0].value, _flags(node), scans))
    return found


# ---------------------------------------------------------------- adversarial inputs


def _name(opcode: Any) -> str:
    """An sre opcode's name (``str()`` of one is its number on Python 3.9 and PyPy)."""
    return str(getattr(opcode, "name", opcode))


def _pieces(parsed: sre_parse.SubPattern, runs: List[str], chars: Set[str]) -> None:
    """Literal runs (``<!--``, ``-->``) and single characters a pattern mentions."""
    current: List[str] = []
    for op, arg in parsed.data:
        name = _name(op)
        if name == "LITERAL":
            current.append(chr(arg))
            chars.add(chr(arg))
            continue
        if current:
            runs.append("".join(current))
            current = []
        if name == "IN":
            for item_op, item in arg:
                if _name(item_op) == "LITERAL":
                    chars.add(chr(item))
                elif _name(item_op) == "RANGE":
                    chars.update((chr(item[0]), chr(item[1])))
                elif _name(item_op) == "CATEGORY":
                    chars.update(" 0a")
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _pieces(arg[2], runs, chars)
        elif name == "SUBPATTERN":
            _pieces(arg[-1], runs, chars)
        elif name == "BRANCH":
            for branch in arg[1]:
                _pieces(branch, runs, chars)
        elif name in ("ASSERT", "ASSERT_NOT"):
            _pieces(arg[1], runs, chars)
    if current:
        runs.append("".join(current))


def adversarial(pattern: Union[str, bytes], flags: int) -> Iterator[Tuple[str, str]]:
    """``(name, unit)``: a unit repeated to any length is an attack on ``pattern``."""
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    runs: List[str] = []
    chars: Set[str] = set()
    _pieces(sre_parse.parse(text, flags & ~re.LOCALE), runs, chars)
    units: List[Tuple[str, str]] = []
    for char in sorted(chars | set(FILLERS)):
        units.append((f"run of {char!r}", char))
    for run in runs:
        units.append((f"{run!r} repeated", run))
        for filler in FILLERS[:3]:
            units.append((f"{run!r}+{filler!r} repeated", run + filler))
    for first in runs:
        for second in runs:
            if first != second:
                units.append((f"{first!r} a {second!r} repeated", first + "a" + second))
    for opener in ("[", "{", "(", "<"):
        units.append((f"nesting {opener!r}", opener))
    seen: Set[str] = set()
    for name, unit in units:
        if unit and unit not in seen:
            seen.add(unit)
            yield name, unit


def _time(found: Found, compiled: re.Pattern[Any], subject: Union[str, bytes]) -> float:
    started = time.perf_counter()
    compiled.match(subject)
    if found.scans:
        compiled.search(subject)
    return time.perf_counter() - started


def audit(found: Found, report: Callable[[str], None] = lambda line: None) -> List[str]:
    """Problems of one pattern: slow searches or super-linear growth."""
    compiled = re.compile(found.pattern, found.flags)
    binary = isinstance(found.pattern, bytes)
    problems = []
    for name, unit in adversarial(found.pattern, found.flags):
        report(name)
        size = 64
        previous = None
        while size <= LARGEST:
            count = max(1, size // len(unit))
            text = unit * count + "\x00!"  # a tail that makes a match fail late
            subject: Union[str, bytes] = text.encode("latin-1", "replace") if binary else text
            elapsed = _time(found, compiled, subject)
            if elapsed <= 4 * BOUND:
                # The best of three: one slow run may be the scheduler (2 shared cores,
                # sanitizer builds) or a JIT; a run far over the bound is not retried.
                elapsed = min(elapsed, *(_time(found, compiled, subject) for _ in range(2)))
            if elapsed > BOUND:
                problems.append(f"{name}: {elapsed:.2f} s at {len(subject)} chars")
                break
            if previous is not None and previous > 0.005 and elapsed > 10 * previous:
                problems.append(
                    f"{name}: {previous * 1000:.1f} ms at {size // 4} chars, "
                    f"{elapsed * 1000:.1f} ms at {size} (super-linear)"
                )
                break
            previous = elapsed
            size *= 4
    return problems


def _child(found: Found, pipe: Any) -> None:
    pipe.send(audit(found, lambda name: pipe.send(name)))


def audit_with_timeout(found: Found, timeout: float) -> List[str]:
    """:func:`audit` in a forked process: an exponential pattern is killed, not waited for."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(found, sender))
    process.start()
    deadline = time.monotonic() + timeout
    current = ""
    try:
        while time.monotonic() < deadline:
            if receiver.poll(0.05):
                message = receiver.recv()
                if isinstance(message, list):
                    return [str(problem) for problem in message]
                current = str(message)
            elif not process.is_alive() and not receiver.poll():
                return [f"the audit process died (exit {process.exitcode})"]
        return [f"{current}: no answer in {timeout:.0f} s (exponential backtracking)"]
    finally:
        process.kill()
        process.join()


def main() -> int:
    failures = 0
    patterns = find_patterns()
    for found in patterns:
        problems = audit_with_timeout(found, PER_PATTERN)
        mode = "match+search" if found.scans else "match"
        print(f"{found.where}: {found.pattern!r} ({mode}): {'SLOW' if problems else 'ok'}")
        for problem in problems:
            failures += 1
            print(f"  {problem}", flush=True)
    print(f"{len(patterns)} patterns audited, {failures} problems", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
