"""The documentation's promises: a short README that starts students on Colab, links that lead somewhere, and every
command the README and docs/ show accepted by its tool's own command line (checked without running anything).

A command is checked where it is written: in a fenced block (```bash, ``` or ```console), a command line at a time,
or as an inline `code span` in the prose. Its flags must be the tool's own (an abbreviation or a renamed flag fails),
and a command in a fenced block that is not a synopsis (no ``[--x]``, ``a|b``, ``...`` or ``<placeholder>``) must
also parse: values of the right type, choices, and the number of arguments. The tools: ``run_all.py`` (and the
SLURM recipe's ``submit.sh``, which passes its arguments to it), ``bench/*.py`` and any other script of the
repository run as ``python path.py`` (it must exist; its argparse options are checked), ``python -m helpers...``,
``papermill`` (its ``-p`` names against the notebook's parameters cell) and ``python -c`` (its imports from
the kit).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import io
import re
import shlex
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 200

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
SHELL_FENCES = {"", "bash", "sh", "shell", "console"}
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
SYNOPSIS = re.compile(r"\[--|\w\|\w|\.\.\.|<\w+>")
FLAG = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")


# --- where the commands are -----------------------------------------------------------------------------------


def commands(text: str) -> list[tuple[str, bool]]:
    """(command text, from a fenced block) for every shell line in fenced blocks and every inline code span."""
    found = []
    for lang, body in FENCE.findall(text):
        if lang not in SHELL_FENCES:
            continue
        block = []
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            if block and line[:1].isspace() and line.strip():  # a synopsis' indented next line continues it
                block[-1] += " " + line.strip()
            elif line.strip():
                block.append(re.sub(r"^\$ ", "", line.strip()))
        found += [(line, True) for line in block]
    prose = FENCE.sub("", text)
    found += [(span, False) for span in INLINE.findall(prose)]
    return found


def simple_commands(line: str) -> list[list[str]]:
    """A shell line as its simple commands (split at ``&&``, ``||``, ``;``, ``|``), comments and VAR=x dropped."""
    line = re.sub(r"(?<=\S)\|(?=\S)", "/", line)  # a synopsis' alternatives (smoke|quick), not a pipe
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an inline span that is not shell (an unbalanced quote): nothing to check
        return []
    out, current = [], []
    for token in tokens:
        if token and set(token) <= set(";&|"):
            out.append(current)
            current = []
        else:
            current.append(token)
    out.append(current)
    result = []
    for words in out:
        while words and ENV_ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words:
            result.append(words)
    return result


def tool_of(words: list[str]) -> tuple[str, list[str]] | None:
    """(tool, its arguments) when ``words`` runs one of the kit's tools, else None."""
    if words and words[0] in ("python", "python3"):
        words = words[1:]
        if words[:1] == ["-m"] and len(words) > 1 and re.fullmatch(r"helpers(\.\w+)*", words[1]):
            return f"-m {words[1]}", words[2:]
        if words[:1] == ["-c"] and len(words) > 1:
            return "-c", words[1:]
        if words and words[0].endswith(".py"):
            return words[0], words[1:]
        return None
    if words and (words[0] == "run_all.py" or re.fullmatch(r"bench/\w+\.py", words[0])):
        return words[0], words[1:]
    if words and words[0].endswith("examples/slurm/submit.sh"):
        return "run_all.py", words[1:]  # submit.sh hands its arguments to run_all.py in both jobs
    if words and words[0] == "papermill":
        return "papermill", words[1:]
    return None


# --- the tools' own command lines -----------------------------------------------------------------------------


class _Built(Exception):
    def __init__(self, parser):
        self.parser = parser


def parser_of_main(main) -> argparse.ArgumentParser:
    """The parser that ``main(argv)`` builds, taken as it starts parsing: nothing after that runs."""

    def stop(self, *args, **kwargs):
        raise _Built(self)

    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", stop),
        mock.patch.object(argparse.ArgumentParser, "parse_known_args", stop),
    ):
        try:
            main([])
        except _Built as built:
            return built.parser
    raise AssertionError(f"{main.__module__}.main() parsed no arguments")


_PARSERS: dict[str, argparse.ArgumentParser] = {}


def parser_for(tool: str) -> argparse.ArgumentParser:
    if tool not in _PARSERS:
        if tool == "run_all.py":
            from helpers.runner.cli import build_parser

            _PARSERS[tool] = build_parser()
        elif tool.startswith("-m "):
            name = tool[3:]
            spec = importlib.util.find_spec(name)
            if spec is None:
                raise ModuleNotFoundError(f"No module named {name!r}")
            module = importlib.import_module(f"{name}.__main__" if spec.submodule_search_locations else name)
            _PARSERS[tool] = parser_of_main(module.main)
        else:
            path = ROOT / tool
            spec = importlib.util.spec_from_file_location(f"_docs_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _PARSERS[tool] = parser_of_main(module.main)
    return _PARSERS[tool]


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option the parser (and its sub-commands') accept, spelled out in full."""
    options = set()
    for action in parser._actions:
        options.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                options |= option_strings(sub)
    return options


def problems(line: str, fenced: bool) -> list[str]:
    """What is wrong with the kit commands in one line of documentation (an empty list: nothing)."""
    found = []
    for words in simple_commands(line):
        tool = tool_of(words)
        if tool is None:
            continue
        name, args = tool
        if name == "papermill":
            found += _papermill_problems(args)
        elif name == "-c":
            found += _import_problems(args[0])
        else:
            if not name.startswith("-m ") and not (ROOT / name).is_file():
                found.append(f"{line}: {name} does not exist")
                continue
            if name != "run_all.py" and name.endswith(".py") and "ArgumentParser" not in (ROOT / name).read_text():
                continue  # a script without options (docs/images/make_images.py): that it exists is the check
            try:
                parser = parser_for(name)
            except ModuleNotFoundError as e:
                found.append(f"{line}: {e}")
                continue
            known = option_strings(parser)
            unknown = [f for f in FLAG.findall(" ".join(args)) if f.split("=")[0] not in known]
            if unknown:
                found.append(f"{line}: {name} has no option {', '.join(unknown)} (its options: {sorted(known)})")
            elif fenced and not SYNOPSIS.search(re.sub(r"\s#\s.*$", "", line)):
                said = io.StringIO()
                try:
                    with contextlib.redirect_stderr(said):
                        parser.parse_args(args)
                except (SystemExit, Exception) as e:  # argparse exits; run_all's parser raises a UsageError
                    why = (said.getvalue().strip().splitlines() or [str(e)])[-1]
                    found.append(f"{line}: {name} does not accept it ({why})")
    return found


def _papermill_problems(args: list[str]) -> list[str]:
    import papermill

    notebook = next((a for a in args if a.endswith(".ipynb")), None)
    if notebook is None or not (ROOT / notebook).is_file():
        return [f"papermill {' '.join(args)}: no notebook {notebook}"]
    params = papermill.inspect_notebook(str(ROOT / notebook))
    names = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-p", "--parameters", "-r", "--parameters_raw")]
    return [f"papermill: {notebook} has no parameter {n!r}" for n in names if n not in params]


def _import_problems(code: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            module = importlib.import_module(node.module)
            found += [f"python -c: {node.module} has no {a.name}" for a in node.names if not hasattr(module, a.name)]
    return found


# --- the tests ------------------------------------------------------------------------------------------------


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture
def in_a_folder_with_DIR(tmp_path, monkeypatch):
    """The docs write DIR for a data folder: run_all.py checks that it exists, so one does (nothing is read)."""
    (tmp_path / "DIR").mkdir()
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_command_in_the_docs_is_accepted_by_its_tool(page, in_a_folder_with_DIR):
    found = [p for line, fenced in commands(page.read_text()) for p in problems(line, fenced)]
    assert not found, "\n".join(found)


def test_the_docs_show_the_kits_commands():
    """The check above looks at something: the commands it knows occur, in fenced blocks and in the prose."""
    seen = {}
    for page in PAGES:
        for line, fenced in commands(page.read_text()):
            for words in simple_commands(line):
                tool = tool_of(words)
                if tool:
                    seen.setdefault(tool[0], set()).add(fenced)
    for tool in ("run_all.py", "bench/recipes.py", "bench/tune.py", "-m helpers.course", "-m helpers.course.publish"):
        assert True in seen.get(tool, set()), f"no fenced command runs {tool}"
    for tool in ("bench/throughput.py", "bench/gpu_session.py", "papermill", "-c"):
        assert tool in seen, f"no command runs {tool}"


@pytest.mark.parametrize(
    "doc, why",
    [
        ("```bash\npython run_all.py --profle quick\n```", "a misspelled flag"),
        ("```bash\npython run_all.py --prof quick\n```", "an abbreviation argparse would accept"),
        ("```bash\npython run_all.py --profile fast\n```", "a value the tool refuses"),
        ("```bash\npython run_all.py [--profile smoke|quick|full] [--onli PATTERN]\n```", "a flag in a synopsis"),
        ("Run `python run_all.py --data-dir DIR --pdf-all` for ...", "an inline command"),
        ("```\npython bench/tune.py --data-dir DIR --trails 8\n```", "a bench script's flag"),
        ("```bash\npython bench/recipes.py --data-dir DIR --epochs eight\n```", "a bench script's value"),
        ("```bash\npython bench/recipies.py --data-dir DIR\n```", "a bench script that does not exist"),
        ("```bash\npython -m helpers.course students out/\n```", "a sub-command python -m refuses"),
        ("```bash\npython -m helpers.cours list\n```", "a module that does not exist"),
        ("```bash\nexamples/slurm/submit.sh --ouput-dir /scratch/x\n```", "submit.sh passes it to run_all.py"),
        ("```bash\npapermill notebooks/02_vgg.ipynb out.ipynb -p epoch 2\n```", "a notebook parameter"),
        ('Call `python -c "from helpers.course import make_pfd; make_pfd()"`.', "an import from the kit"),
    ],
)
def test_a_wrong_command_in_the_docs_is_caught(doc, why, in_a_folder_with_DIR):
    assert [p for line, fenced in commands(doc) for p in problems(line, fenced)], why


def test_a_right_command_passes_the_same_check(in_a_folder_with_DIR):
    doc = (
        "```bash\npython run_all.py --profile smoke --data-dir DIR --pdf all   # a comment\n"
        "SBATCH_ARRAY_INX=1-16 examples/slurm/submit.sh --output-dir /scratch/$USER/out\n"
        "python bench/tune.py --data-dir DIR --model vgg11 resnet18 \\\n    --epochs 8 --trials 2\n```\n"
        "and `python -m helpers.course list` in the prose."
    )
    assert [p for line, fenced in commands(doc) for p in problems(line, fenced)] == []


def test_the_readme_is_a_short_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines (at most {MAX_README_LINES})"


def test_the_readme_starts_students_on_colab_before_any_install():
    text = README.read_text()
    colab = text.index("## Start on Google Colab")
    badge = text.index("https://colab.research.google.com/github/")
    assert colab < badge < text.index("pip install"), "the Colab table comes before the first pip install"
    assert len(re.findall(r"colab\.research\.google\.com/github/\S+/notebooks/0\d_\w+\.ipynb", text)) == 6
    assert text.index("## Start on Google Colab") < text.index("## The two commands")
    for limit in ("disconnect", "12 hours", "GPU quotas", "last finished epoch", "`epochs` and `train_size`"):
        assert limit in text, f"the README names Colab's limits and what the kit does: {limit!r}"


def test_the_readme_shows_a_picture_the_kit_draws():
    images = [m for m in LINK.findall(README.read_text()) if m.endswith(".png")]
    assert images, "the README shows one picture"
    for image in images:
        path = ROOT / image
        assert path.is_file() and path.stat().st_size < 200_000, image
    assert (ROOT / "docs" / "images" / "make_images.py").is_file()


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped (but - and _), spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {github_anchor(h) for h in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_relative_link_leads_to_a_file_and_heading(page):
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(README.read_text()) if "://" not in t}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"README.md links no page {missing}"
