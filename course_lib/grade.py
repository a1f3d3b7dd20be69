"""Grade an exercise notebook: ``python -m course_lib.grade NOTEBOOK`` (or ``make grade NB=...``).

The notebook runs top to bottom through nbval (lax mode) in this environment's
kernel. Only the check cells (first line ``# NBVAL_CHECK_OUTPUT``) are compared
with their stored outputs, the verdict ``"<H-ID> <title>: passed"``; nbval's
comparison decides pass or fail. For a failed exercise the grader shows the
verdict the check printed (what to fix), which each check cell also appends to
the file named by ``COURSE_GRADE_LOG``. Prints one line per exercise and
``score: X/Y``; exits 0 only when every exercise passes. A broken notebook
(unreadable file, syntax error, exception, endless loop) still gets a score.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
CHECK_CALL = re.compile(r"""check\(\s*["'](H\d+)["']""")
VERDICT = re.compile(r"^(H\d+) (.+?): (.*)$")
ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*[A-Za-z]")  # junit writes ESC as "#x1B"
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|SyntaxError|IndentationError)\b.*")
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Item:
    hid: str
    title: str
    passed: bool = False
    message: str = ""

    def line(self) -> str:
        tag = "[pass]" if self.passed else "[fix] "
        return f"{tag} {self.hid} {self.title}: {'passed' if self.passed else self.message}"


@dataclass
class Report:
    notebook: str
    items: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(i.passed for i in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        out = [f"grading {self.notebook}"]
        out += [i.line() for i in self.items]
        out += [f"note: {n}" for n in self.notes]
        out.append(f"score: {self.score}/{self.total}")
        return out


def _title(hid: str) -> str:
    try:
        from .grading import EXERCISES
        return EXERCISES[hid].title
    except Exception:  # noqa: BLE001
        return "exercise"


def _check_cells(nb) -> list[tuple[int, list[str]]]:
    """(code-cell index as nbval numbers them, H-IDs checked) for every check cell."""
    out, code_index = [], 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        if src.lstrip().startswith(CHECK_MARK):
            out.append((code_index, CHECK_CALL.findall(src)))
        code_index += 1
    return out


def _expected_hids(path: Path) -> list[str]:
    """H-IDs of the matching solution notebook, so a deleted check cell still counts."""
    import nbformat

    sol = ROOT / "solutions" / path.name
    if not sol.exists():
        return []
    try:
        return [h for _, hids in _check_cells(nbformat.read(sol, as_version=4)) for h in hids]
    except Exception:  # noqa: BLE001
        return []


def _code_sources(nb) -> list[str]:
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append("".join(src) if isinstance(src, list) else src)
    return out


def _run_nbval(path: Path, log: Path, junit: Path, *, cell_timeout: float, check_timeout: float,
               total_timeout: float) -> tuple[dict, str]:
    """Run nbval; return ({cell number: (outcome, text)}, problem text or "")."""
    env = dict(os.environ, COURSE_GRADE_LOG=str(log), COURSE_CHECK_TIMEOUT=str(check_timeout))
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest", "--color=no",
           "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout:g}",
           "-c", os.devnull, "--rootdir", str(path.parent), f"--junitxml={junit}", str(path)]
    problem = ""
    try:
        proc = subprocess.run(cmd, cwd=path.parent, env=env, capture_output=True, text=True, timeout=total_timeout)
        if proc.returncode not in (0, 1):
            problem = f"nbval could not run the notebook (exit {proc.returncode}): " + \
                      " ".join(ANSI.sub("", proc.stdout + proc.stderr).split())[-300:]
    except subprocess.TimeoutExpired:
        problem = f"the whole run took longer than {total_timeout:g} s and was stopped"
    results = {}
    if junit.exists():
        try:
            for case in ET.parse(junit).getroot().iter("testcase"):
                m = re.search(r"Cell (\d+)", case.get("name", ""))
                if not m:
                    continue
                outcome, text = "passed", ""
                for child in case:
                    if child.tag in ("failure", "error"):
                        outcome = "failed"
                        text = ANSI.sub("", (child.get("message") or "") + "\n" + (child.text or ""))
                    elif child.tag == "skipped":
                        outcome = "skipped"
                results[int(m.group(1))] = (outcome, text)
        except ET.ParseError as exc:
            problem = problem or f"could not read nbval's report ({exc})"
    return results, problem


def _explain(text: str) -> str:
    """One readable line from nbval's failure text."""
    if "Timeout of" in text:
        m = re.search(r"Timeout of ([\d.]+) seconds", text)
        return f"stopped after {m.group(1) if m else '?'} s - the cell did not finish (an endless loop?)"
    if "Kernel dead" in text or "Kernel died" in text:
        return "the kernel died before this cell ran (see the notes above)"
    errors = [ln.strip() for ln in text.splitlines() if ERROR_LINE.match(ln.strip())]
    if errors:
        return "raised " + " ".join(errors[-1].split())[:240]
    if "Cell outputs differ" in text:
        return "the cell's output differs from the expected verdict"
    return " ".join(text.split())[:240] or "failed"


def grade(path, *, cell_timeout: float = 120, check_timeout: float = 30, total_timeout: float = 1800) -> Report:
    import nbformat

    report = Report(str(path))
    path = Path(path).resolve()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - missing file, broken JSON, not a notebook
        report.notes.append(f"could not read the notebook: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        report.items = [Item(h, _title(h), False, "not graded: the notebook could not be read")
                        for h in _expected_hids(path)]
        return report
    cells = _check_cells(nb)
    sources = _code_sources(nb)
    seen = {h for _, hids in cells for h in hids}
    missing = [h for h in _expected_hids(path) if h not in seen]
    if not cells and not missing:
        report.notes.append("no check cells (first line '# NBVAL_CHECK_OUTPUT') in this notebook: nothing to grade")
        return report
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        log, junit = Path(tmp) / "verdicts.tsv", Path(tmp) / "junit.xml"
        results, problem = _run_nbval(path, log, junit, cell_timeout=cell_timeout, check_timeout=check_timeout,
                                      total_timeout=total_timeout)
        logged = {}
        if log.exists():
            for row in log.read_text(encoding="utf-8").splitlines():
                parts = row.split("\t", 2)
                if len(parts) == 3:
                    logged[parts[0]] = (parts[1] == "1", parts[2])
    if problem:
        report.notes.append(problem)
    check_numbers = {n for n, _ in cells}
    for n, (outcome, text) in sorted(results.items()):
        if n not in check_numbers and outcome == "failed":
            first = next((ln for ln in sources[n].splitlines() if ln.strip()), "") if n < len(sources) else ""
            report.notes.append(f"code cell {n} ({first.strip()[:50]!r}) {_explain(text)}")
    for n, hids in cells:
        if not hids:
            report.notes.append(f"check cell {n} calls no check('H<n>', ...)")
        outcome, text = results.get(n, ("not run", ""))
        for hid in hids:
            item = Item(hid, _title(hid))
            if outcome == "passed":
                item.passed = True
            else:
                ok_logged, line = logged.get(hid, (None, ""))
                m = VERDICT.match(line)
                if ok_logged is False and m:
                    item.message = m.group(3)
                elif ok_logged:
                    item.message = ("the check printed 'passed' but the cell's output differs from the expected "
                                    "verdict: keep the check cell as it was (one line, check(...))")
                elif outcome == "not run":
                    item.message = "this check cell did not run" + (f" ({problem})" if problem else "")
                else:
                    item.message = f"the check cell {_explain(text)}"
            report.items.append(item)
    for hid in missing:
        report.items.append(Item(hid, _title(hid), False, "its check cell is missing: restore it from the "
                                                          "original exercise notebook"))
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_lib.grade", description=__doc__.splitlines()[0])
    ap.add_argument("notebook")
    ap.add_argument("--cell-timeout", type=float, default=120, help="seconds one cell may run (default 120)")
    ap.add_argument("--check-timeout", type=float, default=30, help="seconds one check may run (default 30)")
    args = ap.parse_args(argv)
    report = grade(args.notebook, cell_timeout=args.cell_timeout, check_timeout=args.check_timeout)
    print("\n".join(report.lines()), flush=True)
    return 0 if report.total and report.score == report.total else 1


if __name__ == "__main__":
    sys.exit(main())
