#!/usr/bin/env python
"""Execute the course's notebooks headless with papermill, one experiment per process, and summarise.

    python run_all.py                      # the `quick` profile (real data, small subsets, 5-40 epochs)
    python run_all.py --profile smoke      # synthetic data, every notebook in minutes (what the tests run)
    python run_all.py --profile full       # full data, each recipe's epochs (GPU)
    python run_all.py --list               # the experiments of a profile, and which are finished
    python run_all.py --profile smoke --pdf  # ... and outputs/report.pdf (exit status 3: PDF not built)
    python run_all.py --profile full --shard 2/8    # one of 8 workers sharing one output folder
    python run_all.py --profile full --report-only  # wait for the workers, then one report of every run

Executed notebooks: ``<output-dir>/runs/<experiment>/notebook.ipynb`` for training experiments, else
``<output-dir>/notebooks/<experiment>.ipynb``; logs in ``<output-dir>/logs/``; the summary in
``<output-dir>/summary.csv``. Finished experiments are skipped unless ``--force``.

Any number of workers (processes, machines, SLURM array tasks, Kubernetes pods) may share one output folder, a
network folder included: a worker claims an experiment before running it and, holding the claim, checks again
that nobody finished it meanwhile, so every experiment runs once. ``summary.csv`` describes the folder, not one
worker's share, and the last worker to finish (or ``--report-only``) builds the one report.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the kit beside this file, installed or not

from helpers.runner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
