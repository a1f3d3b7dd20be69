#!/usr/bin/env python3
"""Generate the exercise notebooks from the worked solutions.

    python tools/make_exercises.py            # solutions/*.ipynb -> exercises/*.ipynb
    python tools/make_exercises.py --check    # exit 1 if a committed exercise notebook is stale
    python tools/make_exercises.py --store-outputs   # (re)write the expected verdicts into solutions/

The solution notebooks are the one source. Inside a code cell, a solution region

        ### BEGIN SOLUTION H2: hint for the learner
        ... worked solution ...
        ### END SOLUTION

becomes ``raise NotImplementedError("H2: hint for the learner")`` at the same
indentation. A cell whose first line contains ``SOLUTION ONLY`` (Markdown:
``<!-- SOLUTION ONLY -->``, code: ``# SOLUTION ONLY``) is left out of the
exercises. Check cells (first line ``# NBVAL_CHECK_OUTPUT``) keep their code but
lose their outputs: a fresh exercise shows no verdict before the learner runs it.
The expected verdicts stay in ``solutions/``, where the grader reads them.

Both notebooks carry ``metadata.course_exercise = {"id", "kind", "checks"}`` (the
notebook's id and a hash of every check cell's code), which is how the grader
recognises a learner's file whatever it is called.
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s+(?P<hid>H\d+|CAP)\s*:?\s*(?P<hint>.*?)\s*$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")
CHECK_CALL = re.compile(r"""check\(\s*["'](H\d+)["']""")
META = "course_exercise"


class RegionError(ValueError):
    pass


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every solution region of ``source`` by a NotImplementedError stub."""
    out, inside = [], None
    for lineno, line in enumerate(source.splitlines(), 1):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise RegionError(f"{where}, line {lineno}: BEGIN SOLUTION inside another solution region")
            hint = m["hint"] or "write this part"
            message = f"{m['hid']}: {hint}"
            out.append(f"{m['indent']}raise NotImplementedError({message!r})")
            inside = m
            continue
        if END.match(line):
            if not inside:
                raise RegionError(f"{where}, line {lineno}: END SOLUTION without BEGIN SOLUTION")
            inside = None
            continue
        if "SOLUTION" in line and line.lstrip().startswith("###"):
            raise RegionError(f"{where}, line {lineno}: malformed marker {line.strip()!r} "
                              f"(expected '### BEGIN SOLUTION H<n>: hint' or '### END SOLUTION')")
        if not inside:
            out.append(line)
    if inside:
        raise RegionError(f"{where}: BEGIN SOLUTION {inside['hid']} is never closed")
    return "\n".join(out)


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")


def _solution_only(cell) -> bool:
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    return "SOLUTION ONLY" in first


def make_exercise(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    ex = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(ex.cells):
        if _solution_only(cell):
            continue
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{name} cell {i}")
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    ex.cells = cells
    ex.metadata[META] = course_metadata(nb, name)
    for i, cell in enumerate(ex.cells):
        cell["id"] = f"cell-{i:02d}"
    return ex


def _hash(source: str) -> str:
    import hashlib
    text = "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def course_metadata(nb, name: str) -> dict:
    """{"id", "kind", "checks": {hid: hash of its check cell}} (the kind is kept from the solution)."""
    stem = Path(name).stem
    kind = nb.metadata.get(META, {}).get("kind", "exercises")
    checks = {}
    for cell in nb.cells:
        if is_check_cell(cell):
            for hid in CHECK_CALL.findall(cell.source) or (["CAP"] if "submit(" in cell.source else []):
                checks[hid] = _hash(cell.source)
    return {"id": stem, "kind": kind, "checks": checks}


def expected_verdicts(nb, name: str = "") -> nbformat.NotebookNode:
    """Write each check cell's expected output, '<H-ID> <title>: passed', into a solution notebook."""
    sys.path.insert(0, str(ROOT))
    from course_lib.grading import EXERCISES as REGISTRY

    for i, cell in enumerate(nb.cells):
        if is_check_cell(cell):
            hids = CHECK_CALL.findall(cell.source)
            if not hids and "submit(" in cell.source:  # the capstone's submission cell
                from course_lib.grading.capstone import SUBMITTED
                text = SUBMITTED + "\n"
            elif not hids:
                raise RegionError(f"check cell {i} calls no check('H<n>', ...)")
            else:
                text = "".join(f"{h} {REGISTRY[h].title}: passed\n" for h in hids)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
            cell.execution_count = i + 1
    if name:
        nb.metadata[META] = course_metadata(nb, name)
    return nb


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report stale exercise notebooks")
    ap.add_argument("--store-outputs", action="store_true", help="write the expected verdicts into solutions/")
    args = ap.parse_args(argv)
    stale = []
    sources = sorted(SOLUTIONS.glob("*.ipynb"))
    if not sources:
        print("no solution notebooks in solutions/")
        return 1
    if not args.check:
        EXERCISES.mkdir(exist_ok=True)
    for src in sources:
        nb = nbformat.read(src, as_version=4)
        if args.store_outputs:
            text = render(expected_verdicts(nb, src.name))
            if src.read_text(encoding="utf-8") != text:
                src.write_text(text, encoding="utf-8")
                print(f"stored verdicts in {src.relative_to(ROOT)}")
        out = EXERCISES / src.name
        text = render(make_exercise(nb, src.name))
        if args.check:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                stale.append(out)
        elif not out.exists() or out.read_text(encoding="utf-8") != text:
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(ROOT)}")
    if args.check:
        extra = sorted(set(EXERCISES.glob("*.ipynb")) - {EXERCISES / s.name for s in sources})
        stale += extra
    if stale:
        print("stale exercise notebooks (run python tools/make_exercises.py):",
              *[str(s.relative_to(ROOT)) for s in stale], sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
