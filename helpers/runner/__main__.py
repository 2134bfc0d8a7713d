"""``python -m helpers.runner``: run_all.py's command line, from a checkout or an installed kit (no checkout needed)."""

import sys

from helpers.runner.cli import main

if __name__ == "__main__":
    sys.exit(main())
