"""The report: what a notebook cell shows (``display``: tables as Markdown, figures saved where the report finds
them), a finished run's page (``pages``), the evaluation appendix's tables (``tables``) and architecture pages
(``architectures``), and the HTML/PDF export (``export``, with the LaTeX template in ``templates/``).

Imports ``figures``, ``evaluation``, ``training`` and the layers below; ``course`` and ``runner`` import it (the
runner only ``export``, which needs no Keras: this ``__init__`` imports nothing, so ``run_all.py`` starts fast).
"""
