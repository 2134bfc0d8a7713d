"""The course kit's helper package: rooms by job, each importing only the rooms below it.

Bottom: ``runs`` (run directories), ``experiments`` (the matrix and profiles), ``environment`` (versions, backend,
accelerator, the quiet Keras import). Then ``data`` (datasets, splits, input pipelines), ``models`` (every network
by name), ``training`` (recipes, configs, optimisers, ``train``), ``evaluation`` (test results, speed, FLOPs, what
a network sees), ``figures`` (every picture, diagrams included), ``report`` (notebook display, run pages, the
appendix's tables, PDF export) and, on top, ``course`` (what a student imports, exercises, the student version,
publishing). ``runner`` is ``run_all.py``'s machinery; it imports ``experiments``, ``runs`` and
``report.export`` only. ``tests/test_architecture.py`` holds the house to these rules.
"""

__version__ = "0.2.0"
