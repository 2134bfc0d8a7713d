"""Where the kit is published: one constant, and the command that writes it into every notebook and the README.

    python -m helpers.course.publish                  # check: exit 1 and list what disagrees with SOURCE
    python -m helpers.course.publish OWNER/REPO@REF   # publish a fork or release: rewrite SOURCE, badges, install cells

``SOURCE`` names the GitHub repository and the version (a tag or a commit) that the notebooks' "Open in Colab"
badges open and their first cell installs, so a notebook always installs the kit it was written for.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

__all__ = ["SOURCE", "badge_url", "install_cell", "parse_source", "publish"]

SOURCE = "cnn-course-kit/cnn-course-kit@v0.2.0"

ROOT = Path(__file__).resolve().parents[2]
_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}@[A-Za-z0-9._/-]{1,100}$")
_BADGE_RE = re.compile(r"https://colab\.research\.google\.com/github/[^\s\"')]+?/notebooks/(\d\d_\w+\.ipynb)")
_INSTALL_MARK = "# Colab and Kaggle only: install the course kit"
_INSTALL_MARKS = (_INSTALL_MARK, "# Colab only: install the course kit")  # and the earlier wording, to rewrite it


def parse_source(source: str) -> tuple[str, str]:
    """``OWNER/REPO@REF`` -> (``OWNER/REPO``, ``REF``), or ValueError naming the expected form."""
    if not isinstance(source, str) or not _SOURCE_RE.match(source):
        raise ValueError(
            f"{source!r} is not OWNER/REPO@REF (e.g. cnn-course-kit/cnn-course-kit@v0.2.0 or "
            "my-name/cnn-course-kit@main)."
        )
    repo, ref = source.split("@", 1)
    return repo, ref


def badge_url(notebook: str, source: str = SOURCE) -> str:
    repo, ref = parse_source(source)
    return f"https://colab.research.google.com/github/{repo}/blob/{ref}/notebooks/{notebook}"


def install_cell(source: str = SOURCE) -> str:
    """The first code cell of every notebook. It cannot import the kit (it installs it), so it is self-contained.

    On Colab and Kaggle it installs the kit with pip, keeping the runtime's TensorFlow, Keras, NumPy and JAX (a
    runtime without TensorFlow, Colab's TPU one, gets none: the kit runs on Keras' JAX backend there). Everywhere it
    then checks that ``helpers`` is the kit, not a student's own ``helpers.py`` beside the notebook.
    """
    parse_source(source)
    return f'''{_INSTALL_MARK} at the version these notebooks were written for, and
# whatever of its dependencies the runtime lacks. The runtime's TensorFlow, Keras, NumPy and JAX stay as they are
# (pip may not replace them). Elsewhere this cell only checks the kit: install it once as the README says.
KIT = "{source}"  # written by `python -m helpers.course.publish OWNER/REPO@REF`
import importlib.util
import os
import sys

if "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
    import importlib.metadata as md
    import re
    import subprocess
    import tempfile

    repo, ref = KIT.rsplit("@", 1)
    url, kit = (repo if "://" in repo else f"https://github.com/{{repo}}"), "cnn-course-kit"
    pinned = ("tensorflow", "keras", "numpy", "jax", "jaxlib")
    keep = {{p: md.version(p) for p in pinned if importlib.util.find_spec(p)}}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write("".join(f"{{p}}=={{v}}\\n" for p, v in keep.items()))

    def pip(*args):
        command = [sys.executable, "-m", "pip", "install", "-q", "-c", pins.name, *args]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            log = done.stderr + done.stdout
            last = (log.strip().splitlines() or ["(no output)"])[-1]
            causes = {{
                "resolve host|connect to|unreachable": "no network (runtime offline? Kaggle: Settings > Internet)",
                "not found|not appear to be a git|Username": f"repository {{url}} not found",
                "did not match any|unknown revision": f"version {{ref}} not found in {{url}}",
            }}
            cause = next((c for pattern, c in causes.items() if re.search(pattern, log)), f"pip error: {{last}}")
            raise SystemExit(f"The course kit was not installed: {{cause}}.")

    if "tensorflow" in keep:
        pip(f"git+{{url}}@{{ref}}")
    else:  # no TensorFlow here (Colab's TPU runtime): the kit and what it needs, but not TensorFlow
        pip("--no-deps", f"git+{{url}}@{{ref}}")
        importlib.invalidate_caches()
        pip(*[r for r in md.requires(kit) if "extra ==" not in r and not r.startswith("tensorflow")])
    importlib.invalidate_caches()

found = importlib.util.find_spec("helpers")
if found is None:
    raise SystemExit("The course kit is not installed in this Python: install it as the README says, then rerun.")
if not any(os.path.isdir(os.path.join(p, "environment")) for p in found.submodule_search_locations or []):
    raise SystemExit(
        f"{{found.origin or list(found.submodule_search_locations)[0]}} hides the course kit's package `helpers`: "
        "rename it (say, my_helpers.py) and run this cell again."
    )
from helpers.environment import setup'''


def _notebooks(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _rewrite_notebook(path: Path, source: str) -> str | None:
    """The notebook's JSON with its badge and install cell for ``source``, or None when it has no install cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    if not code or not any(mark in "".join(code[0]["source"]) for mark in _INSTALL_MARKS):
        return None
    code[0]["source"] = install_cell(source).splitlines(keepends=True)
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = _BADGE_RE.sub(lambda m: badge_url(m.group(1), source), "".join(cell["source"]))
            cell["source"] = text.splitlines(keepends=True)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _rewrite_text(text: str, source: str) -> str:
    text = _BADGE_RE.sub(lambda m: badge_url(m.group(1), source), text)
    return re.sub(r'^SOURCE = "[^"]*"$', f'SOURCE = "{source}"', text, flags=re.M)


def publish(source: str | None = None, root: Path = ROOT, write: bool = True) -> list[str]:
    """Rewrite every badge, install cell and ``SOURCE`` for ``source`` (default: check against ``SOURCE``).

    Returns the files that differ(ed) from what ``source`` asks for; with ``write=False`` nothing is written.
    """
    source = source or SOURCE
    parse_source(source)
    changed = []
    targets = [(p, _rewrite_notebook) for p in _notebooks(root)]
    targets += [(root / "README.md", _rewrite_text), (root / "helpers" / "course" / "publish.py", _rewrite_text)]
    for path, rewrite in targets:
        old = path.read_text(encoding="utf-8")
        new = rewrite(path, source) if rewrite is _rewrite_notebook else rewrite(old, source)
        if new is None:
            changed.append(f"{path.relative_to(root)} (no install cell starting {_INSTALL_MARK!r})")
            continue
        if new != old:
            changed.append(str(path.relative_to(root)))
            if write:
                path.write_text(new, encoding="utf-8")
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.course.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", help="OWNER/REPO@REF (a tag or commit); omit to check")
    args = parser.parse_args(argv)
    try:
        changed = publish(args.source, write=args.source is not None)
    except ValueError as e:
        parser.exit(2, f"python -m helpers.course.publish: error: {e}\n")
    if args.source is None:
        for path in changed:
            print(f"{path} disagrees with SOURCE = {SOURCE!r}")
        print(
            "ok: every badge and install cell uses " + SOURCE
            if not changed
            else f"run `python -m helpers.course.publish {SOURCE}` to rewrite them"
        )
        return 1 if changed else 0
    print(f"published as {args.source}: rewrote {', '.join(changed) or 'nothing (already so)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
