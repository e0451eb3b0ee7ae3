"""Print the requirement strings of the ``dev`` extra in pyproject.toml that name the given tools.

The CI steps install their tools with the pins the project declares, so a developer running
``pip install -e '.[dev]'`` and CI get the same ruff and mypy.  Usage:
``python .ci/dev_requirement.py ruff mypy`` prints them; with ``--install`` first, the running
interpreter's pip installs them (no shell quoting, so the same command works on Windows).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def dev_requirements(pyproject: Path) -> list[str]:
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.9 and 3.10: read the list by hand
        match = re.search(r"^dev = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
        if not match:
            raise SystemExit("no dev extra in pyproject.toml") from None
        return re.findall(r'"([^"]+)"', match.group(1))
    return list(tomllib.loads(text)["project"]["optional-dependencies"]["dev"])


def main(names: list[str]) -> int:
    install = bool(names) and names[0] == "--install"
    if install:
        names = names[1:]
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    wanted = {name.lower() for name in names}
    found = []
    for requirement in dev_requirements(pyproject):
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()
        if name in wanted:
            found.append(requirement)
            wanted.discard(name)
    if wanted:
        raise SystemExit(f"not in the dev extra: {', '.join(sorted(wanted))}")
    if install:
        return subprocess.call([sys.executable, "-m", "pip", "install", *found])
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
