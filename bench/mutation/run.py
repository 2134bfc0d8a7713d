"""Mutation testing of the kit's core with cosmic-ray (issue 38): the exercises' judges, best-epoch selection,
claims and shards, the results and ablation tables (one ``<area>.toml`` each, beside this file).

    nice -n 19 python bench/mutation/run.py                 # all four areas, every mutant (hours on two cores)
    nice -n 19 python bench/mutation/run.py tables judges   # some areas
    nice -n 19 python bench/mutation/run.py --sample 40     # at most 40 mutants per module, drawn with --seed
    nice -n 19 python bench/mutation/run.py --kit-tests-only  # without tests/test_mutants.py: what the suite alone
                                                            # leaves alive
    nice -n 19 python bench/mutation/run.py --only bench/mutation/results/kit-only  # its survivors again

cosmic-ray writes each mutant into the source file, so every area runs in a copy of the tree (a temporary folder,
put first on PYTHONPATH so that the editable install's ``helpers`` is not the one imported): the working tree is
never touched. ``--ref HEAD`` copies a commit instead of the working tree (tests/test_mutants.py and this folder
still come from the working tree). Operators that only add noise are left out (``EXCLUDED``); loop.py is mutated
only where it selects the epoch (``[[bench-mutation.regions]]`` in selection.toml). Each area's result, with every
survivor as ``module operator occurrence line: - old / + new``, goes to ``bench/mutation/results/<area>.txt``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AREAS = ("judges", "selection", "claims_shards", "tables")
OWN = ("bench/mutation", "tests/test_mutants.py")  # the mutation tooling's own files: always from the working tree

# Noise: a binary operator swapped for a bitwise, shift, power, modulo or floor division (on floats and paths these
# raise at once; the arithmetic neighbours +, -, *, / stay), and `==`/`<`... swapped with `is`/`is not` (on small
# ints and strings CPython makes `is` agree with `==`: equivalent mutants, not gaps in the tests).
EXCLUDED = [
    r"ReplaceBinaryOperator_\w+_(FloorDiv|Mod|Pow|LShift|RShift|BitOr|BitAnd|BitXor)$",
    r"ReplaceComparisonOperator_(Eq|NotEq|Lt|LtE|Gt|GtE)_(Is|IsNot)$",
    r"ReplaceComparisonOperator_(Is|IsNot)_(Eq|NotEq|Lt|LtE|Gt|GtE)$",
]


def copy_tree(dest: Path, ref: str | None) -> None:
    if ref:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        files = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "--", *OWN], cwd=ROOT, check=True, capture_output=True
        )
    else:
        files = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True
        )
    for name in files.stdout.decode().splitlines():
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def region_lines(tree: Path, regions: list[dict]) -> dict[str, set[int]]:
    """Per module: the line numbers inside its regions (from the first line holding `start` to the first line
    from there holding `end`)."""
    lines: dict[str, set[int]] = {}
    for r in regions:
        text = (tree / r["module"]).read_text().splitlines()
        first = next(i for i, line in enumerate(text, 1) if r["start"] in line)
        last = next(i for i, line in enumerate(text, 1) if i >= first and r["end"] in line)
        lines.setdefault(r["module"], set()).update(range(first, last + 1))
    return lines


def key(m) -> str:
    return f"{m.module_path} {m.operator_name.split('/')[-1]} {m.occurrence}"


def select(db: Path, tree: Path, regions: list[dict], sample: int | None, seed: int, only: set[str] | None):
    """Skip the excluded operators, the lines outside a module's regions, and (``sample``) all but ``sample``
    mutants per module drawn with ``seed``; ``only``: the listed mutants alone. Returns (skipped, kept) counts."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    inside = region_lines(tree, regions)
    with use_db(str(db), WorkDB.Mode.open) as wdb:
        items = list(wdb.pending_work_items)
        kept, skipped = {}, []
        for item in items:
            m = item.mutations[0]
            out = (
                any(re.search(p, m.operator_name) for p in EXCLUDED)
                or (str(m.module_path) in inside and m.start_pos[0] not in inside[str(m.module_path)])
                or (only is not None and key(m) not in only)
            )
            if out:
                skipped.append(item.job_id)
            else:
                kept.setdefault(str(m.module_path), []).append(item.job_id)
        if sample:
            rng = random.Random(seed)
            for module, ids in kept.items():
                if len(ids) > sample:
                    chosen = set(rng.sample(sorted(ids), sample))
                    skipped += [i for i in ids if i not in chosen]
                    kept[module] = sorted(chosen)
        if skipped:
            wdb.set_multiple_results(skipped, WorkResult(output="not run", worker_outcome=WorkerOutcome.SKIPPED))
        return len(skipped), sum(len(v) for v in kept.values())


def changed_lines(diff: str | None) -> str:
    """A unified diff as `- old / + new` (first changed line of each side)."""
    lines = (diff or "").splitlines()
    old = next((x[1:].strip() for x in lines if x.startswith("-") and not x.startswith("---")), "")
    new = next((x[1:].strip() for x in lines if x.startswith("+") and not x.startswith("+++")), "")
    return f"- {old} / + {new}"


def killer(output: str | None) -> str:
    """The first test a mutant failed (pytest's `FAILED <node id>` line), or how else it was killed."""
    found = re.search(r"^FAILED (\S+)", output or "", re.M)
    return found[1] if found else ("a timeout" if output == "timeout" else "an error before any test")


def summarize(db: Path, area: str, note: str, killers: bool = False) -> tuple[str, list[str]]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    counts = {"run": 0, "killed": 0, "survived": 0, "incompetent": 0, "not run": 0}
    survivors = []
    with use_db(str(db), WorkDB.Mode.open) as wdb:
        for item, result in wdb.completed_work_items:
            m = item.mutations[0]
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                counts["not run"] += 1
                continue
            counts["run"] += 1
            if result.test_outcome == TestOutcome.SURVIVED:
                counts["survived"] += 1
                survivors.append(f"{key(m)} line {m.start_pos[0]}: {changed_lines(result.diff)}")
            elif result.test_outcome == TestOutcome.INCOMPETENT:
                counts["incompetent"] += 1
            else:
                counts["killed"] += 1
                if killers:  # a rerun of listed survivors: say which test kills each now
                    survivors.append(f"killed: {key(m)} line {m.start_pos[0]} by {killer(result.output)}")
        pending = wdb.num_work_items - wdb.num_results
    total = counts["run"] + counts["not run"] + pending
    line = f"{area}: {total} mutants, {counts['run']} run: {counts['killed']} killed, {counts['survived']} survived"
    line += f", {counts['incompetent']} incompetent; {counts['not run']} not run ({note})"
    return line, sorted(survivors)


def run_area(area: str, args) -> str:
    config = HERE / f"{area}.toml"
    settings = tomllib.loads(config.read_text())
    regions = settings.get("bench-mutation", {}).get("regions", [])
    tree = Path(tempfile.mkdtemp(prefix=f"mutation-{area}-"))
    try:
        copy_tree(tree, args.ref)
        cfg = tree / "mutation.toml"
        text = config.read_text()
        if args.kit_tests_only:  # the suite's own tests alone
            text = re.sub(r" tests/test_mutants\.py::\w+", "", text)
        cfg.write_text(text)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        db = tree / "session.sqlite"

        def cr(*cmd):
            return subprocess.run(["cosmic-ray", *cmd], cwd=tree, env=env, capture_output=True, text=True)

        done = cr("init", str(cfg), str(db))
        if done.returncode:
            raise SystemExit(f"{area}: cosmic-ray init failed:\n{done.stderr[-3000:]}")
        only = None
        if args.only:
            listed = Path(args.only) / f"{area}.txt" if Path(args.only).is_dir() else Path(args.only)
            listed = listed.read_text().splitlines()
            only = {" ".join(line.split()[:3]) for line in listed if re.match(r"\S+\.py \w+ \d+ line \d+:", line)}
        skipped, kept = select(db, tree, regions, args.sample, args.seed, only)
        print(f"{area}: {kept} mutants to run, {skipped} left out", flush=True)
        t0 = time.monotonic()
        base = cr("baseline", str(cfg))
        if base.returncode:
            raise SystemExit(f"{area}: the tests fail without any mutant:\n{base.stdout[-3000:]}{base.stderr[-3000:]}")
        done = cr("exec", str(cfg), str(db))
        if done.returncode:
            raise SystemExit(f"{area}: cosmic-ray exec failed:\n{done.stderr[-3000:]}")
        note = "excluded operators, lines outside the regions" + (
            f", sampled {args.sample} per module" if args.sample else ""
        )
        if only is not None:
            note += f", only those of {args.only}"
        line, survivors = summarize(db, area, note, killers=only is not None)
        line += f"; {time.monotonic() - t0:.0f} s"
        out = Path(args.results) / f"{area}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        head = f"# cosmic-ray, tests: {'the kit' if args.kit_tests_only else 'the kit + tests/test_mutants.py'}"
        out.write_text("\n".join([head, line, *survivors]) + "\n")
        print(line, *survivors, sep="\n", flush=True)
        return line
    finally:
        if args.keep:
            print(f"{area}: kept {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("areas", nargs="*", help=f"default: all ({', '.join(AREAS)})")
    parser.add_argument("--sample", type=int, help="at most this many mutants per module (default: all)")
    parser.add_argument("--seed", type=int, default=38)
    parser.add_argument("--only", help="a results file, or a folder of <area>.txt: run only the survivors listed")
    parser.add_argument("--kit-tests-only", action="store_true", help="leave tests/test_mutants.py out")
    parser.add_argument("--ref", help="copy this commit instead of the working tree")
    parser.add_argument("--results", default=str(HERE / "results"), help="where <area>.txt goes")
    parser.add_argument("--keep", action="store_true", help="keep the copies of the tree")
    args = parser.parse_args(argv)
    if unknown := set(args.areas) - set(AREAS):
        parser.error(f"unknown area(s) {sorted(unknown)}: choose among {', '.join(AREAS)}")
    lines = [run_area(area, args) for area in args.areas or AREAS]
    print("", *lines, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
