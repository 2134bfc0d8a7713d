"""The student version of the notebooks: every solution block between nbgrader's markers becomes its stub
(``name = ...`` for an assignment; the signature, docstring and ``...`` for a function; in a Markdown cell, the model
answers of a questionnaire, a line that asks for the student's own, and the cell's "Model answers" heading goes).

A function's docstring stays in the student's stub: it says what to write, so it must not say how (where the
stride sits, say, when the check names a misplaced stride): tests/test_exercises.py reads the stubs."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _stub(block: str) -> str:
    """The student's starting point for a solution block: assignments become ``name = ...``, functions keep their
    signature and docstring with ``...`` as the body; anything else is left out."""
    lines = []
    tree = ast.parse(block)
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines.append(f"{' = '.join(ast.unparse(t) for t in targets)} = ...  # your answer")
        elif isinstance(node, ast.FunctionDef):
            signature = ast.unparse(node.args)
            lines.append(f"def {node.name}({signature}):")
            doc = ast.get_docstring(node)
            if doc:
                body = doc.replace("\n", "\n    ")
                lines.append(f'    """{body}"""')
            lines.append("    ...  # your code")
    return "\n".join(lines)


MARKDOWN_STUB = "*Your answers:*"
# A heading over model answers ("**Model answers**", "### Model answers:"): the student version has none to head.
MODEL_ANSWERS = re.compile(r"^\s*(#+\s*)?[*_]*\s*model answers?\s*:?\s*[*_]*\s*:?\s*$", re.IGNORECASE)


def student_source(source: str, markdown: bool = False) -> str:
    """A cell's source with every solution block replaced by its stub (``markdown``: by ``MARKDOWN_STUB``, and
    without a "Model answers" heading)."""
    out, block, inside = [], [], False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside, block = True, []
        elif line.strip() == END:
            if not inside:
                raise ValueError(f"{END} without {BEGIN}")
            out.append(MARKDOWN_STUB if markdown else _stub("\n".join(block)))
            inside = False
        elif inside:
            block.append(line)
        elif not (markdown and MODEL_ANSWERS.match(line)):
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out).lstrip("\n") if markdown else "\n".join(out)


def write_student_version(notebooks: list[Path], out_dir: Path) -> list[Path]:
    """Write each notebook's student version into ``out_dir`` (same names); returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] in ("code", "markdown") and BEGIN in text:
                cell["source"] = student_source(text, cell["cell_type"] == "markdown").splitlines(keepends=True)
        target = out_dir / path.name
        target.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written
