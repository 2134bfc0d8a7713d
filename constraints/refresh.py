#!/usr/bin/env python
"""Refresh the constraints files: Colab's versions, or the set CI last passed with.

    python constraints/refresh.py colab                   # from backend-info's pip-freeze.gpu.txt (needs internet)
    python constraints/refresh.py colab --freeze FILE     # from a copy of that file
    python constraints/refresh.py ci                      # this environment's packages (run where CI just passed)

``colab.txt`` keeps its list of packages (those of the kit's that Colab preinstalls) and takes their versions from
Colab's ``pip freeze``; ``ci.txt`` is ``pip freeze`` of this Python, less the kit itself. Install with either:
``pip install -c constraints/ci.txt -e ".[dev]"``.
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLAB_FREEZE = "https://raw.githubusercontent.com/googlecolab/backend-info/main/pip-freeze.gpu.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def refresh_colab(freeze_text: str, path: Path) -> list[str]:
    """Rewrite the pins of ``path`` with the versions in ``freeze_text``; the changes, as "name old -> new"."""
    versions = {_key(m[1]): m[2] for line in freeze_text.splitlines() if (m := PIN.match(line.strip()))}
    lines, changes = [], []
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if not m:
            lines.append(line)
            continue
        if _key(m[1]) not in versions:
            raise SystemExit(f"{m[1]} is not in Colab's pip freeze any more: remove it from {path.name} by hand.")
        new = versions[_key(m[1])]
        if new != m[2]:
            changes.append(f"{m[1]} {m[2]} -> {new}")
        lines.append(f"{m[1]}=={new}")
    path.write_text("\n".join(lines) + "\n")
    return changes


def refresh_ci(path: Path) -> int:
    """``pip freeze`` of this Python (the kit itself left out), with a header naming the Python; the number of pins."""
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout
    pins = sorted(
        (line for line in freeze.splitlines() if PIN.match(line) and _key(line.split("==")[0]) != "cnn-course-kit"),
        key=str.lower,
    )
    header = (
        "# The set of packages CI last passed with (python constraints/refresh.py ci, run where it passed):\n"
        f"# Python {platform.python_version()} on {platform.system()} {platform.machine()}.\n"
        '# pip install -c constraints/ci.txt -e ".[dev]"\n'
    )
    path.write_text(header + "\n".join(pins) + "\n")
    return len(pins)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["colab", "ci"])
    parser.add_argument("--freeze", help="colab: a copy of backend-info's pip-freeze.gpu.txt instead of downloading")
    parser.add_argument("--out", type=Path, help="the file to write (default: constraints/<which>.txt)")
    args = parser.parse_args(argv)
    out = args.out or HERE / f"{args.which}.txt"
    if args.which == "ci":
        print(f"{out}: {refresh_ci(out)} pins")
        return 0
    if args.freeze:
        text = Path(args.freeze).read_text()
    else:
        with urllib.request.urlopen(COLAB_FREEZE, timeout=60) as response:  # noqa: S310 - a fixed https address
            text = response.read().decode()
    changes = refresh_colab(text, out)
    print(f"{out}: " + ("; ".join(changes) if changes else "unchanged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
