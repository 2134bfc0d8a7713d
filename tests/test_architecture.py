"""The house's rules, checked on the source (nothing is imported): rooms by job, imports that only point down, no
cycles, short modules, public Keras/TensorFlow APIs only."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"

# Bottom to top: a package may import its own modules and the packages before it in this list, never those after.
LAYERS = [
    "runs",
    "experiments",
    "environment",
    "data",
    "models",
    "training",
    "evaluation",
    "figures",
    "report",
    "course",
]
RUNNER_MAY_IMPORT = {"runs", "experiments", "environment", "runner", "report.export"}
# Imports inside functions only keep an optional dependency optional (another Keras backend's library, Colab's
# own modules, the modules written for the TensorFlow backend alone).
OPTIONAL = ("tensorflow", "jax", "torch", "google.colab", "helpers.data.tf_data", "helpers.training.distribute")
PRIVATE_APIS = ("_inbound_nodes", "_keras_history", "tensorflow.python", "tf.compat.v1", "keras.src")


def sources():
    return sorted(HELPERS.rglob("*.py")) + [ROOT / "run_all.py"]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sources()}


def imports(path: Path):
    """(module imported, line, inside a function) for every import statement of the file, nested ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        inside = id(node) in nested
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, inside
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:  # `from helpers.data import pipeline` imports a module, not a name
                full = f"{node.module}.{alias.name}"
                yield (full if full in MODULES else node.module), node.lineno, inside


def kit_graph() -> dict[str, set[str]]:
    return {name: {m for m, _, _ in imports(path) if m in MODULES} for name, path in MODULES.items()}


def test_no_import_cycle_counting_imports_inside_functions():
    graph, index, low, stack, on_stack, cycles = kit_graph(), {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_imports_point_down_the_layers():
    wrong = []
    for name, targets in kit_graph().items():
        if not name.startswith("helpers."):
            continue
        own = package_of(name)
        for target in targets:
            if not target.startswith("helpers."):
                continue
            other = package_of(target)
            if own == "runner":
                ok = other in RUNNER_MAY_IMPORT or target.startswith("helpers.report.export")
            else:
                ok = other == own or (other in LAYERS and LAYERS.index(other) < LAYERS.index(own))
            if not ok:
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports that point up (or sideways into the runner):\n" + "\n".join(sorted(wrong))


def test_run_all_is_a_thin_command_line():
    assert {m for m in kit_graph()["run_all"] if m.startswith("helpers")} == {"helpers.runner.cli"}
    assert len((ROOT / "run_all.py").read_text().splitlines()) <= 40


def test_imports_inside_functions_only_keep_optional_dependencies_optional():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sources()
        for module, line, inside in imports(path)
        if inside and not module.startswith(OPTIONAL)
    ]
    assert not found, "imports inside functions that are not optional dependencies:\n" + "\n".join(found)


def test_at_most_twelve_entries_at_the_top_of_helpers():
    entries = sorted(p.name for p in HELPERS.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 12, entries


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_250_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_public_apis_only(path):
    text = path.read_text(encoding="utf-8")
    assert not [api for api in PRIVATE_APIS if api in text], path
    private = re.findall(r"from helpers[\w.]* import [^\n]*\b_\w+", text)
    assert not private, f"{path}: imports another module's private name: {private}"


def test_every_package_says_what_lives_there_and_what_it_may_import():
    for init in sorted(HELPERS.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and re.search(r"\bimport", doc), f"{init}: the docstring says what it imports"
