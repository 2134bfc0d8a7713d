"""A student sees what we see: notebook 02 run in JupyterLab in a real browser (Debian's chromium via playwright).

JupyterLab renders both a stderr stream and a traceback as ``data-mime-type="application/vnd.jupyter.stderr"``
(red text); figures are ``<img>`` elements in output areas. The kernel gets a student's environment: no
``TF_CPP_MIN_LOG_LEVEL`` and no ``MPLBACKEND`` (which would turn off inline figures), and the notebook runs without
a ``progress`` parameter, so the default live progress display is the one exercised.
CI installs what this needs: ``apt-get install -y chromium`` and ``pip install playwright`` (never
``playwright install``: it downloads a browser).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import papermill
import pytest

from helpers.experiments import EXPERIMENTS, parameters_for

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # checked in the fixture: a skip locally, a failure under CI
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_vgg.ipynb"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking switches Chromium's connections get refused on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "browser-test-token"
RUN_TIMEOUT_S = 300  # all cells, smoke parameters: 135 s on 2 CPU cores shared with other jobs
SCREENSHOT = Path("/tmp/browser_02.png")  # one look at the result after a passing run
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
FIGURE_CALL = re.compile(r"^show\(|\bplots\.plot_\w+\(|\bplt\.show\(", re.MULTILINE)  # figure cells

pytestmark = pytest.mark.slow


def require_browser():
    """Skip without playwright or chromium, except under CI (CI=true), where they must be installed."""
    missing = []
    if sync_playwright is None:
        missing.append("the playwright Python package (pip install playwright)")
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must install them)")
        pytest.skip(reason)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def notebook(tmp_path):
    """Notebook 02 with the smoke parameters (those the notebook has, less ``progress``) in a folder of its own."""
    require_browser()
    names = papermill.inspect_notebook(str(NOTEBOOK))
    params = parameters_for(EXPERIMENTS["best_vgg16_cifar10"], "smoke", str(tmp_path / "outputs"))
    params.pop("progress", None)  # the student's default progress display must be exercised
    dropped = sorted(set(params) - set(names))
    assert not {"synthetic", "epochs", "train_size"} & set(dropped), f"smoke parameters missing: {dropped}"
    params = {k: v for k, v in params.items() if k in names}
    folder = tmp_path / "lab"
    folder.mkdir()
    path = folder / NOTEBOOK.name
    papermill.execute_notebook(str(NOTEBOOK), str(path), parameters=params, prepare_only=True)
    return path


@pytest.fixture
def lab(notebook, tmp_path):
    """JupyterLab on localhost serving the notebook's folder, with settings of its own; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND", "JUPYTER_PATH")}
    dirs = {
        name: tmp_path / "jupyter" / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")
    }
    for d in dirs.values():
        d.mkdir(parents=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
    )
    # No "get notified about official Jupyter news?" toast over the notebook, no update check.
    notification = dirs["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    log_path = tmp_path / "jupyterlab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={free_port()}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={notebook.parent}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, env=env, cwd=notebook.parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = wait_for_server(proc, dirs["runtime"], log_path)
        specs = json.loads(urllib.request.urlopen(f"{base}api/kernelspecs?token={TOKEN}", timeout=10).read())
        assert "python3" in specs["kernelspecs"], f"no python3 kernelspec: {specs}"
        yield base
    finally:
        stop(proc)


def wait_for_server(proc, runtime_dir, log_path, timeout=90):
    """The server's base URL (from its runtime file: the port it really got) once /api/status answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        for info in runtime_dir.glob("jpserver-*.json"):
            try:
                base = json.loads(info.read_text())["url"]
                urllib.request.urlopen(f"{base}api/status?token={TOKEN}", timeout=5)
                return base
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {timeout} s:\n{log_path.read_text()[-3000:]}")


def stop(proc):
    """Stop JupyterLab (it shuts its kernels down), then anything left in its process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def page():
    require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def dom(page, expression):
    return page.evaluate(expression)


def prompts(page):
    return dom(
        page,
        "Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'))"
        ".map(e => e.textContent.trim())",
    )


def kernel_status(page):
    return dom(
        page,
        "(document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator')"
        " || {getAttribute: () => null}).getAttribute('data-status')",
    )


def kernel_ready(base, page):
    """The notebook's kernel is up and idle, for the server and for the page."""
    sessions = json.loads(urllib.request.urlopen(f"{base}api/sessions?token={TOKEN}", timeout=10).read())
    states = [s["kernel"]["execution_state"] for s in sessions if s.get("kernel")]
    return states == ["idle"] and kernel_status(page) == "idle"


def dialog_text(page):
    return dom(page, "Array.from(document.querySelectorAll('.jp-Dialog')).map(e => e.innerText).join('\\n')")


def wait_until(page, done, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dialog_text(page):
            raise AssertionError(f"dialog while waiting for {what}: {dialog_text(page)}")
        if done():
            return
        time.sleep(1)
    raise AssertionError(f"no {what} within {timeout} s; kernel {kernel_status(page)!r}, prompts {prompts(page)}")


def run_all(page, base):
    """Run > Run All Cells, then wait until the kernel is idle and no cell is queued or running."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    seen_busy = False

    def finished():
        nonlocal seen_busy
        shown = prompts(page)
        if "[*]:" in shown:
            seen_busy = True
            return False
        everything_ran = all(re.fullmatch(r"\[\d+\]:", p) for p in shown)
        return (seen_busy or everything_ran) and kernel_ready(base, page)

    wait_until(page, finished, RUN_TIMEOUT_S, "end of Run All Cells")


def save(page, path):
    page.keyboard.press("Control+s")
    wait_until(
        page,
        lambda: not dom(page, "document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty').length"),
        30,
        "save (the tab stays dirty)",
    )
    return nbformat.read(path, as_version=4)


def screenshot_figures(page, path):
    """A screenshot with a figure in view: the training curves if there, else the first image."""
    # Off-screen cells are laid out lazily (content-visibility), so one scroll can land short: repeat it.
    for _ in range(3):
        page.evaluate("""() => {
            const cells = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell'));
            const cell = cells.find(c => c.querySelector('.jp-InputArea').textContent.includes('plot_history')
                                         && c.querySelector('.jp-OutputArea-output img'));
            const img = (cell || document).querySelector('.jp-OutputArea-output img');
            if (img) img.scrollIntoView({block: 'center'});
        }""")
        page.wait_for_timeout(500)
    page.screenshot(path=str(path))


def figure_cells(nb):
    return sum(1 for cell in nb.cells if cell.cell_type == "code" and FIGURE_CALL.search(cell.source))


def test_notebook_02_in_jupyterlab(lab, notebook, page, tmp_path):
    page_errors = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    t0 = time.perf_counter()
    prepared = nbformat.read(notebook, as_version=4)
    n_code = sum(cell.cell_type == "code" for cell in prepared.cells)
    expected_figures = figure_cells(prepared)
    assert expected_figures >= 1, f"only {expected_figures} figure cells found in {NOTEBOOK.name}"
    try:
        page.goto(f"{lab}lab/tree/{notebook.name}?token={TOKEN}")
        page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=60_000)
        # JupyterLab renders long notebooks in chunks and starts the kernel meanwhile: wait for both.
        wait_until(page, lambda: len(prompts(page)) == n_code, 60, f"{n_code} rendered code cells")
        wait_until(page, lambda: kernel_ready(lab, page), 90, "idle kernel after opening the notebook")

        t_open = time.perf_counter() - t0
        run_all(page, lab)
        t_run = time.perf_counter() - t0 - t_open

        shown = prompts(page)
        not_run = [i for i, p in enumerate(shown) if not re.fullmatch(r"\[\d+\]:", p)]
        red = dom(page, f"Array.from(document.querySelectorAll('{STDERR}')).map(e => e.innerText)")
        assert not red, "red (stderr or error) output in the browser:\n" + "\n-----\n".join(red)
        assert not not_run, f"code cells without an execution count (stopped early?): {not_run}, prompts {shown}"

        page.wait_for_function(
            "Array.from(document.querySelectorAll('.jp-OutputArea-output img')).every(img => img.complete)",
            timeout=20_000,
        )
        images = dom(
            page,
            "Array.from(document.querySelectorAll('.jp-OutputArea-output img'))"
            ".map(img => [img.naturalWidth, img.naturalHeight])",
        )
        blank = [size for size in images if min(size) <= 0]
        assert len(images) >= expected_figures, f"{len(images)} images rendered, {expected_figures} figure cells"
        assert not blank, f"images that did not decode: {blank}"

        saved = save(page, notebook)
        code = [cell for cell in saved.cells if cell.cell_type == "code"]
        outputs = [out for cell in code for out in cell.outputs]
        assert all(cell.execution_count for cell in code), "saved notebook has cells without an execution count"
        assert not [o for o in outputs if o.output_type == "error"], "saved notebook holds an error output"
        stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"saved notebook holds stderr output: {stderr}"
        raw = [o.text[:200] for o in outputs if o.output_type == "stream" and re.search("[\r\b]", o.text)]
        assert not raw, f"stream text with \\r or \\b in the saved notebook: {raw}"
        pngs = sum("image/png" in o.get("data", {}) for o in outputs)
        assert pngs >= expected_figures, f"saved notebook has {pngs} PNG outputs, {expected_figures} figure cells"

        screenshot_figures(page, SCREENSHOT)
    except BaseException:
        failure = tmp_path / "failure.png"
        page.screenshot(path=str(failure))
        print(f"screenshot: {failure}; page errors: {page_errors}")
        raise
    print(
        f"opened in {t_open:.0f} s, ran {n_code} code cells in {t_run:.0f} s, {len(images)} images "
        f"({expected_figures} figure cells), "
        f"{time.perf_counter() - t0:.0f} s in all; page errors: {page_errors}"
    )
