"""``python -m helpers.course student [DIR]``: write the student version of the notebooks (solutions removed);
``python -m helpers.course list``: the exercises, notebook by notebook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.course.exercises import EXERCISES
from helpers.course.student import write_student_version
from helpers.experiments import NOTEBOOKS, notebook_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.course", description="Write the student version of the notebooks (solutions removed)."
    )
    parser.add_argument("command", choices=["student", "list"])
    parser.add_argument("out_dir", nargs="?", default="student", help="folder for the student notebooks")
    args = parser.parse_args(argv)
    if args.command == "list":
        for e in EXERCISES.values():
            print(f"{e.notebook:26s} {e.kind:10s} {e.name}")
        return 0
    names = sorted(NOTEBOOKS.values())  # every notebook: exercises, questionnaires
    written = write_student_version([notebook_path(n) for n in names], Path(args.out_dir))
    print(f"student version of {len(written)} notebooks in {args.out_dir}/: {', '.join(p.name for p in written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
