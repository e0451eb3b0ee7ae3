"""Structure figures of the package at a git revision (issue 10's "Done when").

    python benchmarks/code_metrics.py                 # the working tree's HEAD
    python benchmarks/code_metrics.py --rev 9d28b6d   # any commit

Prints, with the items behind each count so a reader can check it:

* module-level mutable state in ``eventstream/``: names bound at module level
  to a mutable container (a dict, list, set or bytearray display, comprehension
  or constructor call) that some package code stores into or mutates, plus
  names that a function rebinds with ``global``; mutable-typed tables that
  nothing mutates are listed apart;
* ``type: ignore`` comments, in the package and in the whole repository;
* the files that mention a decode fault code (its ``FAULT_*`` constant, its
  ``ES_ERR_*`` status or its error name), per code: the files a new code has to
  touch, and their languages;
* the decode paths of each backend module: its top-level functions that decode,
  check or walk frames or headers, and the C entry points (``lib.es_*``) it
  calls.
"""

from __future__ import annotations

import argparse
import ast
import re
import statistics
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

MUTABLE_CALLS = {"dict", "list", "set", "bytearray", "defaultdict", "OrderedDict", "deque",
                 "Counter", "WeakValueDictionary", "WeakKeyDictionary"}  # fmt: skip
MUTABLE_NODES = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
DECODE_WORDS = re.compile(r"decode|walk|check|parse|frame|header_fault", re.I)
SOURCE_EXT = {".py": "Python", ".c": "C", ".h": "C", ".pyi": "Python"}


class Tree:
    """Files at one revision."""

    def __init__(self, rev: str) -> None:
        self.rev = rev
        out = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev], capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
        self.paths = [p for p in out.splitlines() if p]

    def read(self, path: str) -> str:
        return subprocess.run(["git", "show", f"{self.rev}:{path}"], capture_output=True,
                              text=True, check=True).stdout  # fmt: skip


def _target_names(node: ast.stmt) -> List[str]:
    targets: List[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def _is_mutable(value: Optional[ast.expr]) -> bool:
    if isinstance(value, MUTABLE_NODES):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in MUTABLE_CALLS
    return False


MUTATORS = "append|extend|pop|clear|update|setdefault|insert|remove|add|discard|popitem"


def _mutated(name: str, package_text: str) -> bool:
    """Whether ``package_text`` (the package's functions) stores into, deletes
    from or calls a mutating method of ``name`` (as ``name`` or ``module.name``)."""
    ref = rf"(?<![\w.])(?:\w+\.)?{re.escape(name)}"
    store = rf"{ref}\[[^\]\n]*\]\s*(?:[-+|&]?=)(?!=)"
    delete = rf"\bdel\s+{ref}\["
    call = rf"{ref}\.(?:{MUTATORS})\("
    return re.search(f"{store}|{delete}|{call}", package_text) is not None


def module_mutables(tree: Tree) -> Tuple[List[str], List[str]]:
    """(mutable state, mutable-typed tables that nothing mutates)."""
    sources = {p: tree.read(p) for p in tree.paths
               if p.startswith("eventstream/") and p.endswith(".py")}  # fmt: skip
    # Mutations inside functions: filling a table while the module loads is not state.
    package_text = "\n".join(
        ast.get_source_segment(text, node) or ""
        for text in sources.values()
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )
    state: Dict[str, str] = {}
    tables: List[str] = []
    for path, text in sources.items():
        module = ast.parse(text)
        for node in module.body:
            value = getattr(node, "value", None)
            for name in _target_names(node):
                if name == "__all__" or not _is_mutable(value):
                    continue
                if _mutated(name, package_text):
                    state[f"{path}: {name}"] = f"{path}: {name} (mutated)"
                else:
                    tables.append(f"{path}: {name}")
        for node in ast.walk(module):
            if isinstance(node, ast.Global):
                for name in node.names:
                    state[f"{path}: {name}"] = f"{path}: {name} (rebound with global)"
    tables = [t for t in tables if t not in state]
    return sorted(state.values()), sorted(tables)


def type_ignores(tree: Tree) -> Tuple[int, int, Dict[str, int]]:
    """(in the package, in the repository, per package file)."""
    package = total = 0
    per_file: Dict[str, int] = {}
    for path in tree.paths:
        if not path.endswith((".py", ".pyi")):
            continue
        n = tree.read(path).count("type: ignore")
        total += n
        if path.startswith("eventstream/"):
            package += n
            if n:
                per_file[path] = n
    return package, total, per_file


def fault_names(tree: Tree) -> List[Tuple[str, str]]:
    """``(FAULT_X, error name)`` for every fault code of errors.py."""
    text = tree.read("eventstream/errors.py")
    constants = re.findall(r"^FAULT_([A-Z0-9_]+) = -\d+", text, re.M)
    out = []
    for c in constants:
        named = re.search(rf"FAULT_{c}: \(\s*\w+,\s*\"(\w+)\"", text)
        out.append((c, named.group(1) if named else c.lower()))
    return out


def fault_files(tree: Tree) -> Dict[str, List[str]]:
    sources = [p for p in tree.paths if p.endswith(tuple(SOURCE_EXT))]
    texts = {p: tree.read(p) for p in sources}
    result = {}
    for constant, name in fault_names(tree):
        words = (f"FAULT_{constant}", f"ES_ERR_{constant}", f'"{name}"', f"'{name}'")
        result[constant] = sorted(p for p, t in texts.items() if any(w in t for w in words))
    return result


def decode_paths(tree: Tree) -> Dict[str, Tuple[List[str], List[str]]]:
    out = {}
    for path in tree.paths:
        if not re.match(r"eventstream/_?backend[^/]*\.py$", path):
            continue
        text = tree.read(path)
        module = ast.parse(text)
        funcs = [n.name for n in module.body if isinstance(n, ast.FunctionDef)
                 and DECODE_WORDS.search(n.name) and "encode" not in n.name]  # fmt: skip
        c_calls = sorted(set(re.findall(r"\blib\.(es_\w+)", text)) - {"es_module_version"})
        c_calls = [c for c in c_calls if DECODE_WORDS.search(c) and "encode" not in c]
        out[path] = (funcs, c_calls)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rev", default="HEAD", help="git revision (default HEAD)")
    args = ap.parse_args(argv)
    tree = Tree(args.rev)
    short = subprocess.run(["git", "rev-parse", "--short", args.rev], capture_output=True,
                           text=True, check=True).stdout.strip()  # fmt: skip
    print(f"# Structure figures at {short}\n")
    state, tables = module_mutables(tree)
    print(f"module-level mutable state in eventstream/: {len(state)}")
    for m in state:
        print(f"  {m}")
    print(f"(and {len(tables)} mutable-typed tables that no code mutates: {', '.join(tables)})")
    package, total, per_file = type_ignores(tree)
    print(f"\n`type: ignore` comments: {package} in eventstream/, {total} in the repository")
    print("  " + ", ".join(f"{p.split('/', 1)[1]} {n}" for p, n in sorted(per_file.items())))
    files = fault_files(tree)
    counts = [len(v) for v in files.values()]
    print(
        f"\nfiles mentioning a fault code: median {statistics.median(counts):g}, "
        f"max {max(counts)} over {len(counts)} codes"
    )
    example = "HEADER_VALUE_UTF8" if "HEADER_VALUE_UTF8" in files else next(iter(files))
    langs = sorted({SOURCE_EXT[p[p.rindex(".") :]] for p in files[example]})
    print(f"  e.g. {example}: {len(files[example])} files ({', '.join(langs)})")
    for p in files[example]:
        print(f"    {p}")
    print("\ndecode paths per backend module (functions; C entry points called):")
    for path, (funcs, c_calls) in decode_paths(tree).items():
        if not funcs and not c_calls:
            continue  # e.g. the contract module
        print(f"  {path}: {len(funcs)} functions {funcs}; {len(c_calls)} C entry points {c_calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
