"""``run_all.py``'s machinery: its command line (``cli``), a worker's session (``session``), each notebook executed
by papermill in its own process (``jobs``), checks before anything runs (``preflight``), what the output folder says
of each experiment (``markers``, ``folder``), and many workers on one folder (``claims``, ``workers``, ``shards``).

Imports ``experiments``, ``runs`` and ``report.export`` only (no Keras: a worker starts in a second); students never
import it.
"""
