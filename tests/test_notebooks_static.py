"""Static checks of the notebooks (nothing is executed): format, hygiene, parameters, Colab cell, no progress bars.

Fast on purpose: these run on every commit, while executing the notebooks is the slow tests' and run_all's job.
"""

import re
from pathlib import Path

import nbformat
import papermill
import pytest

from helpers.course.publish import SOURCE, badge_url, install_cell
from helpers.course.student import BEGIN, END, student_source
from helpers.experiments import EXPERIMENTS, PROFILES, parameters_for

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

TRAIN_PARAMS = {
    "experiment",
    "dataset",
    "model",
    "recipe",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "schedule",
    "augment",
    "label_smoothing",
    "weight_decay",
    "val_size",
    "train_size",
    "test_size",
    "data_dir",
    "synthetic",
    "seed",
    "output_dir",
    "use_drive",
    "run_name",
    "progress",
    "experiment_exercises",
    "tensorboard",
}
REQUIRED = {
    "01_data_loading.ipynb": {
        "data_dir",
        "synthetic",
        "seed",
        "output_dir",
        "use_drive",
        "train_size",
        "val_size",
        "augment_preview",
    },
    "02_vgg.ipynb": TRAIN_PARAMS,
    "03_resnet.ipynb": TRAIN_PARAMS,
    "04_googlenet.ipynb": TRAIN_PARAMS,
    "05_evaluation_appendix.ipynb": {"output_dir", "use_drive", "profile", "save_figures", "build_pdf"},
    "06_what_cnns_see.ipynb": {"output_dir", "use_drive", "run_name"},
}
DEFAULT_MODEL = {"02_vgg.ipynb": "vgg16", "03_resnet.ipynb": "resnet18", "04_googlenet.ipynb": "googlenet"}
NAMES = sorted(REQUIRED)


def read(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def parameters(name):
    return papermill.inspect_notebook(str(NOTEBOOKS / name))


def test_all_notebooks_present():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_valid_and_stored_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(code_cells(nb)):
        assert cell.outputs == [], f"{name}: code cell {i} has stored outputs"
        assert cell.execution_count is None, f"{name}: code cell {i} has an execution count"
    assert "papermill" not in nb.metadata, f"{name}: papermill metadata left in (an executed copy was saved)"


@pytest.mark.parametrize("name", NAMES)
def test_one_parameters_cell_with_the_required_names(name):
    nb = read(name)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code", f"{name}: needs exactly one code cell tagged parameters"
    params = parameters(name)
    missing = REQUIRED[name] - set(params)
    # papermill's parser silently drops lines it cannot read (e.g. "int | None" annotations): a dropped name is a
    # misspelling to run_all's check, so every assignment in the cell must come back from inspect_notebook.
    assigned = {m.group(1) for m in re.finditer(r"^(\w+)\s*[:=]", tagged[0].source, re.M)}
    assert not missing, f"{name}: parameters missing or unreadable by papermill: {sorted(missing)}"
    assert assigned == set(params), f"{name}: papermill cannot read {sorted(assigned - set(params))}"
    for p in params.values():
        assert p["inferred_type_name"] != "None", f"{name}: parameter {p['name']} has no type annotation"
        assert p["help"], f"{name}: parameter {p['name']} has no comment explaining it"
    if name in DEFAULT_MODEL:
        assert params["model"]["default"] == f'"{DEFAULT_MODEL[name]}"'
        assert params["dataset"]["default"] == '"cifar10"'


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_experiment_matrix_uses_only_known_parameters(profile):
    """Every parameter run_all would pass (any experiment, any profile) is a parameter of that notebook."""
    known = {name: set(parameters(name)) for name in NAMES}
    for e in EXPERIMENTS.values():
        assert e.notebook in known, f"{e.name}: unknown notebook {e.notebook}"
        passed = set(parameters_for(e, profile, "outputs", data_dir="data"))
        assert passed <= known[e.notebook], f"{e.name} ({profile}): {sorted(passed - known[e.notebook])} unknown"


@pytest.mark.parametrize("name", NAMES)
def test_colab_badge_points_at_this_notebook(name):
    first = read(name).cells[0]
    assert first.cell_type == "markdown"
    assert badge_url(name) in first.source and SOURCE.split("@")[1] in badge_url(name)
    assert "colab-badge.svg" in first.source


@pytest.mark.parametrize("name", NAMES)
def test_no_remote_images_in_markdown(name):
    """A markdown image of a URL (e.g. the badge as ![](...svg)) makes `nbconvert --to pdf` fail in xelatex."""
    for cell in read(name).cells:
        if cell.cell_type == "markdown":
            assert not re.search(r"!\[[^\]]*\]\(\s*https?://", cell.source), f"{name}: remote markdown image"


@pytest.mark.parametrize("name", NAMES)
def test_install_cell_is_the_published_one_and_never_touches_the_stack(name):
    """Every notebook's first code cell is helpers.course.publish's, for SOURCE: the pinned kit, installed on Colab
    only."""
    nb = read(name)
    first = code_cells(nb)[0].source
    assert first == install_cell(SOURCE)
    guard = 'if "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ:'
    assert f'KIT = "{SOURCE}"' in first and guard in first
    body = first.split(guard)[1].split("\n\nfound = ")[0]
    assert '"-m", "pip"' in body and '"-m", "pip"' not in first.split(guard)[1].split("\n\nfound = ")[1]
    assert all(line.startswith("    ") or not line for line in body.splitlines()[1:]), "installs must be guarded"
    assert '"-c", pins.name' in first  # TensorFlow, Keras, NumPy (and JAX) pinned to what the runtime has
    for cell in code_cells(nb):
        for line in cell.source.splitlines():
            if "pip" not in line or line.lstrip().startswith("#"):
                continue
            assert not re.search(r"pip\s+install\s+.*(-e\b|--editable)", line), f"{name}: pip install -e: {line}"
            if ("--no-deps" in line or "md.requires(kit)" in line) and "md.requires(kit)" in cell.source:
                continue  # no TensorFlow in the runtime: the kit, then its requirements but TensorFlow, pins kept
            assert not re.search(r"(-U\b|--upgrade|--force-reinstall|--no-deps)", line), f"{name}: {line}"
            assert not re.search(r"\b(tensorflow|keras|numpy|ipykernel|pyzmq)\b", line, re.I), f"{name}: {line}"


@pytest.mark.parametrize("name", NAMES)
def test_no_progress_bars(name):
    for cell in code_cells(read(name)):
        assert not re.search(r"verbose\s*=\s*(1|True|\"auto\"|'auto')", cell.source), f"{name}: verbose progress bar"
        assert "tqdm" not in cell.source, f"{name}: tqdm progress bar"


@pytest.mark.parametrize("name", NAMES)
def test_no_html_only_outputs(name):
    """Styler and HTML() vanish from LaTeX PDFs: tables are plain DataFrames."""
    for cell in code_cells(read(name)):
        assert ".style" not in cell.source and "HTML(" not in cell.source, f"{name}: HTML-only output"


@pytest.mark.parametrize("name", NAMES[:4])
def test_markdown_explains_the_code(name):
    """The teaching notebooks (not the appendix, a report generator) have at least as much narrative as code."""
    nb = read(name)
    md_chars = sum(len(c.source) for c in nb.cells if c.cell_type == "markdown")
    code_chars = sum(len(c.source) for c in code_cells(nb))
    assert md_chars >= code_chars, f"{name}: {md_chars} characters of markdown for {code_chars} of code"


# Questions beside their evidence: a Markdown cell tagged "question" right after the code cell that shows the plot or
# table it asks about, its model answer between the solution markers (the student version keeps the question only).
QUESTIONS_BESIDE_EVIDENCE = {name: 2 for name in NAMES if name != "01_data_loading.ipynb"}


@pytest.mark.parametrize("name", sorted(QUESTIONS_BESIDE_EVIDENCE))
def test_questions_sit_beside_their_evidence(name):
    cells = read(name).cells
    asked = [i for i, c in enumerate(cells) if "question" in c.get("metadata", {}).get("tags", [])]
    assert len(asked) >= QUESTIONS_BESIDE_EVIDENCE[name], f"{name}: {len(asked)} questions beside their evidence"
    for i in asked:
        source = cells[i].source
        assert cells[i].cell_type == "markdown" and cells[i - 1].cell_type == "code", f"{name}: cell {i}"
        question = source.split("\n\n")[0]  # the question's paragraph, then its model answer
        assert "?" in question and BEGIN not in question, f"{name}: cell {i} asks nothing"
        assert source.count(BEGIN) == 1 and source.index(BEGIN) < source.index(END), f"{name}: cell {i}'s answer"
        student = student_source(source, markdown=True)
        assert BEGIN not in student and student.startswith(question), f"{name}: cell {i}'s student version"


# The prediction comes before any figure of its answer: no Markdown above the cell that records the prediction
# (``predict("<effect>", ...)``) states what the runs measured (a percentage, points or steps in a sentence about the
# pair). 03's measured answer (the study) follows the prediction.
PREDICTIONS = {
    "02_vgg.ipynb": (
        "learning_rate",
        re.compile(r"(1e-6|small_lr|smaller)[^.]*\d+\s?steps|\d+\s?steps[^.]*(1e-6|small_lr|smaller)"),
        False,
    ),
    "03_resnet.ipynb": (
        "degradation",
        re.compile(r"(plain-(20|56)|56-layer)[^.]*\d+(\.\d+)?\s?(%|points)|\d+(\.\d+)?\s?(%|points)[^.]*plain-(20|56)"),
        True,
    ),
    "04_googlenet.ipynb": (
        "augmentation",
        re.compile(
            r"(without augmentation|unaugmented|gap)[^.]*\d+(\.\d+)?\s?(%|points)"
            r"|\d+(\.\d+)?\s?(%|points)[^.]*(without augmentation|unaugmented)"
        ),
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(PREDICTIONS))
def test_no_answer_above_its_prediction(name):
    effect, answer, measured_later = PREDICTIONS[name]
    cells = read(name).cells
    asked = [i for i, c in enumerate(cells) if f'predict("{effect}", ' in c.source]
    assert len(asked) == 1 and cells[asked[0]].cell_type == "code", f"{name}: {effect} is predicted once"
    for i, cell in enumerate(cells[: asked[0]]):
        if cell.cell_type == "markdown":
            found = answer.search(" ".join(cell.source.split()))
            assert not found, f"{name}: cell {i} gives the answer before {effect} is predicted: {found.group(0)!r}"
    if measured_later:
        later = " ".join(c.source for c in cells[asked[0] :] if c.cell_type == "markdown")
        assert answer.search(" ".join(later.split())), f"{name}: the measured answer to {effect} is gone altogether"
