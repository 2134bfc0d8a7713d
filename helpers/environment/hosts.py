"""Where the kit runs (Colab, Kaggle, a TPU runtime, a machine of one's own) and where its runs go there: the one place
that decides "Google Drive or this machine's disk"."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from helpers.runs import KAGGLE_VAR, default_output_dir


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def on_kaggle() -> bool:
    """True in a Kaggle notebook (Kaggle sets this variable in every kernel)."""
    return bool(os.environ.get(KAGGLE_VAR))


def on_tpu_runtime() -> bool:
    """True on a Cloud TPU machine (Colab's TPU runtimes set these variables or expose /dev/accel*)."""
    return any(os.environ.get(k) for k in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")) or any(
        Path("/dev").glob("accel[0-9]*")
    )


# This kernel's answer from Google Drive: asked at most once, so a refusal is not asked again by the next step.
_drive = {"refused": None}


def resolve_output_dir(
    output_dir: str = "", use_drive: bool | None = None, drive_folder: str = "cnn-course-kit", mount: str | None = None
) -> str:
    """Where runs go: the one place that decides "Drive or local", asked by every step (training, 05, 06, make_pdf).

    * An explicit ``output_dir`` wins: runs go there, Drive or not.
    * Else, on Colab with ``use_drive`` (None, the default: on Colab, yes), Google Drive is mounted (Colab asks for
      access once per session) and runs go to ``MyDrive/cnn-course-kit/outputs``: each notebook opened from its badge
      runs on a machine of its own, and the Drive is where their runs meet; they also survive a disconnect. Refused
      or failed, one line says so and runs stay on this machine (``default_output_dir``), for the rest of the session.
    * Else the kit's one folder (``default_output_dir``: ``$CNN_KIT_OUTPUT_DIR``, the checkout's ``outputs/``,
      Kaggle's ``/kaggle/working/outputs``, or ``outputs/`` here).

    ``mount``: where Colab mounts the Drive (``$CNN_KIT_DRIVE_MOUNT`` or /content/drive).
    """
    local = default_output_dir()
    chosen = Path(output_dir).expanduser() if output_dir else local
    if use_drive and not in_colab():
        print(f"use_drive=True only applies on Google Colab; runs stay in {chosen}")
        return str(chosen)
    if output_dir:
        if use_drive:
            print(f"output_dir is set, so runs go to {chosen} (use_drive only moves the default folder).")
        return str(chosen)
    if not (in_colab() if use_drive is None else use_drive):
        return str(local)
    drive = _mounted_drive(Path(mount or os.environ.get("CNN_KIT_DRIVE_MOUNT", "/content/drive")), local)
    if drive is None:
        return str(local)
    path = drive / drive_folder / local.name
    path.mkdir(parents=True, exist_ok=True)
    print(f"output_dir on Google Drive: {path}")
    return str(path)


def _mounted_drive(mount: Path, local: Path) -> Path | None:
    """``MyDrive`` under ``mount``, mounting it first (Colab's sign-in window); None when refused or failed."""
    if (mount / "MyDrive").is_dir():
        return mount / "MyDrive"
    if _drive["refused"] is None:
        print(
            "Google Drive: Colab asks for access now, in a sign-in window (choose your account, allow); this cell "
            "waits for your answer. The runs of every notebook meet there. Refuse it, or set use_drive = False, to "
            "keep them on this machine.",
            flush=True,
        )
        try:
            from google.colab import drive  # exists on Colab only

            drive.mount(str(mount))
            if not (mount / "MyDrive").is_dir():
                raise OSError(f"{mount / 'MyDrive'} did not appear")
        except Exception as e:  # refused ("credential propagation was unsuccessful"), timed out, failed: all local
            _drive["refused"] = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        else:
            return mount / "MyDrive"
    print(
        f"Google Drive not mounted ({_drive['refused']}): runs stay in {local} on this machine and vanish when the "
        "runtime ends. To use Drive later, run `from google.colab import drive; drive.mount('/content/drive')` in a "
        "cell, then run this notebook again."
    )
    return None
