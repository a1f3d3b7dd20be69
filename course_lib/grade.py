"""Grade exercise notebooks: ``python -m course_lib.grade NOTEBOOK`` (or ``make grade NB=...``),
or a whole class at once: ``python -m course_lib.grade SUBMISSIONS_DIR --csv grades.csv``.

What decides a grade comes from the course, never from the learner's file,
except the learner's own code:

* The notebook is identified by its metadata (``course_exercise``), or else by
  the hashes of the course's check cells found in it; never by its file name.
  The exercise list, the check cells' code and their expected outputs (the
  stored verdicts ``"<H-ID> <title>: passed"`` of the solution notebook) come
  from ``solutions/``.
* The grader builds a copy: a first cell of the course's (it arms the checker
  with a per-run secret the notebook cannot read), then the learner's code
  cells with every stored output dropped, each check cell replaced by the
  course's own cell and expected output. A check cell that is missing, or
  whose code differs from the course's, is reported by name and earns nothing.
* nbval (lax mode) runs the copy top to bottom in a fresh kernel and compares
  the check cells' outputs with the expected verdicts. An exercise earns its
  point only if its check cell ran, printed the expected verdict, AND the
  checker wrote a passing record signed with the run's secret (a redefined or
  patched ``check``, or a printed verdict, writes none; the course's reference
  functions passed back in are refused).

A syntax error, an exception, an endless loop, a dead kernel or a missing file
each give a score and one readable line. The exit status is 0 whenever a
score was given (a score below full marks is a result, not a crash); 2 when
nothing could be graded; ``--strict`` exits 1 below full marks.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import inspect
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
CHECK_CALL = re.compile(r"""check\(\s*["'](H\d+)["']""")
SUBMIT_CALL = re.compile(r"\bsubmit\(")
CAPSTONE = "CAP"
ANY_MARKER = re.compile(r"^(\s*#\s*)(NBVAL_\w+)", re.MULTILINE)
ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*[A-Za-z]")  # junit writes ESC as "#x1B"
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|SyntaxError|IndentationError)\b.*")
ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
META = "course_exercise"
KERNEL_DIED = "Kernel died"
ARM_CELL = ("import os as _course_os, course_lib.grading._core as _course_grading\n"
            "_course_os.chdir({cwd!r})\n"
            "_course_grading._arm()\n"
            "del _course_os, _course_grading")

# A kernel binds the ports its manager picked a moment earlier; on a busy machine another process (another
# kernel, any client socket) can take one in between, and the kernel exits with "Address already in use" before
# it runs anything. That is the machine's race, not the learner's code: start again on fresh ports.
KERNEL_START_ATTEMPTS = 3


def kernel_start_failed(exc: BaseException) -> bool:
    """True for a kernel that died while starting, before it ran any code (jupyter_client's wording)."""
    return isinstance(exc, RuntimeError) and "before replying to kernel_info" in str(exc)


def retry_kernel_start(start, attempts: int = KERNEL_START_ATTEMPTS):
    """``start`` (a ``start_new_kernel``), called again, up to ``attempts`` times in all, while the kernel dies
    starting; any other error, or the last attempt's, is raised."""
    def start_again(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as e:
                if attempt == attempts or not kernel_start_failed(e):
                    raise
                sys.stderr.write(f"kernel died while starting (attempt {attempt} of {attempts}): starting again\n")
    return start_again


# nbval waits the whole cell timeout for a kernel that has died; this wrapper polls instead. It also starts a
# kernel that died while starting again (the functions above, by their source: importing course_lib would cost
# the runner torch's import).
_RUNNER = r"""
import sys, time
from queue import Empty
import pytest
from nbval.kernel import RunningKernel

_await = RunningKernel.await_reply

def await_reply(self, msg_id, timeout=None):
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if not self.is_alive():
            raise RuntimeError("Kernel died: the Python process running the notebook exited while this cell ran")
        step = 0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic()))
        try:
            return _await(self, msg_id, timeout=step)
        except Empty:
            if deadline is not None and time.monotonic() >= deadline:
                raise

RunningKernel.await_reply = await_reply

import nbval.kernel as _nbval_kernel
KERNEL_START_ATTEMPTS = %d
%s
%s
_nbval_kernel.start_new_kernel = retry_kernel_start(_nbval_kernel.start_new_kernel)
sys.exit(pytest.main(sys.argv[1:]))
""" % (KERNEL_START_ATTEMPTS, inspect.getsource(kernel_start_failed), inspect.getsource(retry_kernel_start))


def normalise(source: str) -> str:
    """A check cell's code with trailing spaces and blank edge lines dropped (editors add them)."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip()


def source_hash(source: str) -> str:
    return hashlib.sha256(normalise(source).encode("utf-8")).hexdigest()[:16]


def _src(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# ------------------------------------------------------------------------------------ the course
@dataclass
class CourseCheck:
    hid: str
    source: str
    outputs: list
    title: str


@dataclass
class CourseNotebook:
    id: str
    checks: list  # CourseCheck, in order
    kind: str = "exercises"  # or "capstone"

    @property
    def hids(self) -> list:
        return [c.hid for c in self.checks]


def catalogue(solutions: Path = SOLUTIONS) -> dict:
    """{notebook id: CourseNotebook} from the solution notebooks (their check cells and stored verdicts)."""
    import nbformat

    out = {}
    for path in sorted(Path(solutions).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get(META, {})
        checks = []
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK):
                hids = _mentions(cell.source)
                text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
                title = text.split(":", 1)[0].split(" ", 1)[1] if " " in text.split(":", 1)[0] else "exercise"
                if hids == [CAPSTONE]:
                    title = "capstone: the compressed teacher within the byte budget"
                for hid in hids:
                    checks.append(CourseCheck(hid, cell.source, [dict(o) for o in cell.outputs], title))
        out[meta.get("id", path.stem)] = CourseNotebook(meta.get("id", path.stem), checks,
                                                        meta.get("kind", "exercises"))
    return out


def _mentions(src: str) -> list:
    """The exercises a cell checks: check("H<n>", ...) calls, or the capstone's submit(...)."""
    return CHECK_CALL.findall(src) or ([CAPSTONE] if SUBMIT_CALL.search(src) else [])


def identify(nb, course: dict) -> tuple[CourseNotebook | None, str]:
    """Which course notebook ``nb`` is: by metadata, else by the hashes of its check cells."""
    meta = nb.get("metadata", {}).get(META, {})
    if isinstance(meta, dict) and meta.get("id") in course:
        return course[meta["id"]], "metadata"
    hashes = {source_hash(_src(c)) for c in nb.get("cells", []) if c.get("cell_type") == "code"}
    calls = {h for c in nb.get("cells", []) if c.get("cell_type") == "code" for h in CHECK_CALL.findall(_src(c))}
    calls.discard(CAPSTONE)
    best, score = None, 0
    for entry in course.values():
        s = 2 * sum(source_hash(c.source) in hashes for c in entry.checks) + len(set(entry.hids) & calls)
        if s > score:
            best, score = entry, s
    return best, ("check-cell hashes" if best else "")


# ------------------------------------------------------------------------------------ the report
@dataclass
class Item:
    hid: str
    title: str
    passed: bool = False
    message: str = ""
    points: float = 1.0

    @property
    def earned(self) -> float:
        return self.points if self.passed else 0.0

    def line(self) -> str:
        tag = "[pass]" if self.passed else "[fix] "
        return f"{tag} {self.hid} {self.title}: {'passed' if self.passed else self.message}"


@dataclass
class Report:
    notebook: str
    items: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    exercise: str = ""
    saved: str = ""
    extra: dict = field(default_factory=dict)  # capstone measurements

    @property
    def score(self):
        s = sum(i.earned for i in self.items)
        return int(s) if float(s).is_integer() else round(s, 2)

    @property
    def total(self):
        s = sum(i.points for i in self.items)
        return int(s) if float(s).is_integer() else round(s, 2)

    def lines(self) -> list[str]:
        out = [f"grading {self.notebook}" + (f" (course notebook {self.exercise})" if self.exercise else "")]
        if self.saved:
            out.append(self.saved)
        out += [i.line() for i in self.items]
        out += [f"note: {n}" for n in self.notes]
        out.append(f"score: {self.score}/{self.total}")
        if self.total and self.score < self.total:
            out.append(f"below full marks ({self.score} of {self.total}): fix the [fix] lines above, save the "
                       f"notebook, and grade again")
        elif self.total:
            out.append("full marks")
        return out


def _saved_line(path: Path) -> str:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ""
    when = datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    ago = max(0, time.time() - mtime)
    ago_text = f"{ago:.0f} s" if ago < 120 else f"{ago / 60:.0f} min" if ago < 7200 else f"{ago / 3600:.1f} h"
    return (f"file last saved {when} ({ago_text} ago); the grader reads the SAVED file - save first (Ctrl+S): "
            f"JupyterLab autosaves only every two minutes")


# ------------------------------------------------------------------------------------ nbval
def _run_nbval(path: Path, junit: Path, env: dict, *, cell_timeout: float, total_timeout: float
               ) -> tuple[dict, str]:
    """Run nbval on ``path``; return ({cell number: (outcome, text)}, problem text or "")."""
    cmd = [sys.executable, "-c", _RUNNER, "-q", "-p", "no:cacheprovider", "--noconftest", "--color=no",
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
    if "Kernel dead on test start" in text:
        return "did not run: the kernel had already died"
    if KERNEL_DIED in text:
        return ("killed the kernel: the Python process exited while this cell ran (os._exit, sys.exit in a "
                "thread, a crash or running out of memory); nothing after it ran")
    if "Timeout of" in text:
        m = re.search(r"Timeout of ([\d.]+) seconds", text)
        return f"stopped after {m.group(1) if m else '?'} s - the cell did not finish (an endless loop?)"
    errors = [ln.strip() for ln in text.splitlines() if ERROR_LINE.match(ln.strip())]
    if errors:
        return "raised " + " ".join(errors[-1].split())[:240]
    if "Cell outputs differ" in text:
        return "printed something other than the expected verdict"
    return " ".join(text.split())[:240] or "failed (nbval gave no message)"


def _records(log: Path, key: bytes) -> dict:
    """{hid: (ok, line)} from the last correctly signed record of each exercise."""
    out = {}
    if not log.exists():
        return out
    for row in log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = row.split("\t")
        if len(parts) != 5:
            continue
        seq, hid, ok, line, digest = parts
        want = hmac.new(key, "\t".join((seq, hid, ok, line)).encode("utf-8"), hashlib.sha256).hexdigest()
        if hmac.compare_digest(want, digest):
            out[hid] = (ok == "1", line)
    return out


# ------------------------------------------------------------------------------------ grading one notebook
def build_copy(nb, entry: CourseNotebook, cwd: Path):
    """The notebook nbval runs: arming cell, learner code without outputs, course check cells.

    Returns (copy, {hid: code-cell number in the copy}, {hid: problem}, [learner code-cell numbers])."""
    import nbformat

    course = {normalise(c.source): c for c in entry.checks}
    placed, problems, learner_cells = {}, {}, []
    cells = [nbformat.v4.new_code_cell(ARM_CELL.format(cwd=str(cwd)))]
    code_no = 1
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = _src(cell)
        match = course.get(normalise(src))
        if match is not None and match.hid not in placed and src.lstrip().startswith(CHECK_MARK):
            hids = [c.hid for c in entry.checks if normalise(c.source) == normalise(src)]
            cells.append(nbformat.v4.new_code_cell(match.source, execution_count=code_no,
                                                   outputs=[nbformat.from_dict(o) for o in match.outputs]))
            for h in hids:
                placed[h] = code_no
        else:
            for h in _mentions(src):
                if h in entry.hids and h not in placed:
                    problems.setdefault(h, "changed")
            # learner code runs, but nothing in it is compared
            cells.append(nbformat.v4.new_code_cell(ANY_MARKER.sub(r"\1(grader removed \2)", src)))
            learner_cells.append(code_no)
        code_no += 1
    copy = nbformat.v4.new_notebook()
    copy.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    copy.cells = cells
    for h in entry.hids:
        if h in placed:
            problems.pop(h, None)
        else:
            problems.setdefault(h, "missing")
    return copy, placed, problems, learner_cells


def _first_line(src: str) -> str:
    return next((ln.strip() for ln in src.splitlines() if ln.strip()), "")[:50]


def grade(path, *, cell_timeout: float = 120, check_timeout: float = 30, total_timeout: float = 1800,
          course: dict | None = None) -> Report:
    import nbformat

    report = Report(str(path))
    path = Path(path).resolve()
    course = catalogue() if course is None else course
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - missing file, broken JSON, not a notebook
        report.notes.append(f"could not read the notebook: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        return report
    report.saved = _saved_line(path)
    entry, how = identify(nb, course)
    if entry is None:
        report.notes.append("this is not one of the course's exercise notebooks (no course_exercise metadata and "
                            "none of the course's check cells): nothing to grade")
        return report
    report.exercise = entry.id
    copy, placed, problems, learner_cells = build_copy(nb, entry, path.parent)
    titles = {c.hid: c.title for c in entry.checks}
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        tmp = Path(tmp)
        graded, log, junit, keyfile = tmp / "graded.ipynb", tmp / "verdicts.tsv", tmp / "junit.xml", tmp / "key"
        nbformat.write(copy, graded)
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        submission = tmp / "capstone.pt"
        env = dict(os.environ, COURSE_GRADE_LOG=str(log), COURSE_GRADE_KEYFILE=str(keyfile),
                   COURSE_CHECK_TIMEOUT=str(check_timeout), COURSE_CAPSTONE_OUT=str(submission))
        env.setdefault("MPLBACKEND", "Agg")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                           if p])
        results, problem = _run_nbval(graded, junit, env, cell_timeout=cell_timeout, total_timeout=total_timeout)
        records = _records(log, key)
        if entry.kind == "capstone":
            records[CAPSTONE] = _capstone(submission, nb, report)
    if problem:
        report.notes.append(problem)
    arm = results.get(0, ("not run", ""))
    if arm[0] != "passed" and not problem:
        report.notes.append(f"the grader's first cell (which starts the checker) failed: {_explain(arm[1])}")
    died = None
    dead_from = min((n for n, (o, t) in results.items() if "Kernel dead on test start" in t), default=None)
    if dead_from is not None:  # the kernel was gone by then: the last failed cell before it killed it
        died = max((n for n, (o, _) in results.items() if n < dead_from and o == "failed"), default=None)
        if died is not None and KERNEL_DIED not in results[died][1]:
            results[died] = ("failed", results[died][1] + "\n" + KERNEL_DIED)
    for n in learner_cells:
        outcome, text = results.get(n, ("not run", ""))
        if outcome == "failed":
            if "Kernel dead on test start" in text:
                continue
            src = copy.cells[n].source
            report.notes.append(f"code cell {n} ({_first_line(src)!r}) {_explain(text)}")
            if KERNEL_DIED in text:
                died = n
    for c in entry.checks:
        hid = c.hid
        if any(i.hid == hid for i in report.items):
            continue
        item = Item(hid, titles[hid])
        report.items.append(item)
        if problems.get(hid) == "missing":
            item.message = ("its check cell is missing - restore it from the original exercise notebook: "
                            + " / ".join(normalise(c.source).splitlines()) + " (no credit)")
            continue
        if problems.get(hid) == "changed":
            item.message = ("its check cell was changed - it must read exactly: "
                            + " / ".join(normalise(c.source).splitlines()) + " (no credit)")
            continue
        n = placed[hid]
        outcome, text = results.get(n, ("not run", ""))
        ok_signed, line = records.get(hid, (None, ""))
        verdict_msg = line.split(": ", 1)[1] if ": " in line else ""
        if hid == CAPSTONE:
            item.passed = bool(outcome == "passed" and ok_signed)
            item.message = verdict_msg if outcome == "passed" or ok_signed is not None else \
                f"the submit cell {_explain(text)}"
            if item.passed:
                item.title = f"{item.title} ({verdict_msg})"
        elif outcome == "passed" and ok_signed:
            item.passed = True
        elif ok_signed is False and verdict_msg:
            item.message = verdict_msg
        elif outcome == "passed" or (ok_signed and outcome == "failed" and "Cell outputs differ" in text):
            item.message = ("the 'passed' shown did not come from the course's checker (was check or the grading "
                            "library replaced, or the output changed?) - no credit")
        elif KERNEL_DIED in text or "Kernel dead" in text or (died is not None and died < n):
            item.message = "not run: the kernel died earlier" + (f" in code cell {died}" if died else "")
        elif outcome == "not run":
            item.message = "this check cell did not run" + (f" ({problem})" if problem else "")
        else:
            item.message = f"the check cell {_explain(text)}"
    return report


def _capstone(submission: Path, nb, report: Report) -> tuple[bool, str]:
    """Measure the submitted model here, in the grader's process: (within the budget, message)."""
    from .grading import capstone

    report.extra["capstone"] = True
    learner_code = "\n".join(_src(c) for c in nb.get("cells", []) if c.get("cell_type") == "code"
                             and not SUBMIT_CALL.search(_src(c)))
    touched = [name for name in capstone.FORBIDDEN if name in learner_code]
    if not submission.exists():
        return False, f"{CAPSTONE} x: no model was submitted (the submit cell did not run or refused the model)"
    try:
        m = capstone.measure(capstone.load_submission(submission))
    except Exception as exc:  # noqa: BLE001 - a malformed or hostile file
        return False, f"{CAPSTONE} x: the submitted model could not be measured ({' '.join(str(exc).split())[:150]})"
    report.extra.update(size_bytes=m["size_bytes"], accuracy=m["accuracy"], within_budget=m["within_budget"])
    if touched:
        report.extra["within_budget"] = False
        return False, (f"{CAPSTONE} x: {capstone.accuracy_text(m)} - but the notebook uses {', '.join(touched)}: the "
                       f"held-out data is the grader's alone, so this entry is not ranked")
    if not m["within_budget"]:
        return False, f"{CAPSTONE} x: {capstone.accuracy_text(m)} - over the budget, not ranked"
    return True, f"{CAPSTONE} x: {capstone.accuracy_text(m)}"


# ------------------------------------------------------------------------------------ a class
def grade_folder(folder, *, csv_path=None, feedback_dir=None, jobs: int = 1, **kwargs) -> list[Report]:
    """Grade every notebook in ``folder`` (each in a fresh kernel with the time limits of ``grade``); write one
    CSV row per learner (file name, one column per exercise, total) and one feedback file per learner."""
    folder = Path(folder)
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    course = catalogue()
    with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        reports = list(pool.map(lambda p: grade(p, course=course, **kwargs), paths))
    if feedback_dir is None:
        feedback_dir = Path(csv_path).parent / f"{Path(csv_path).stem}_feedback" if csv_path else folder / "feedback"
    feedback_dir = Path(feedback_dir)
    feedback_dir.mkdir(parents=True, exist_ok=True)
    for path, rep in zip(paths, reports):
        (feedback_dir / f"{path.stem}.txt").write_text("\n".join(rep.lines()) + "\n", encoding="utf-8")
    if csv_path:
        write_csv(csv_path, paths, reports)
    return reports


def _hid_key(h: str):
    m = re.match(r"([A-Za-z]+)(\d+)", h)
    return (m.group(1), int(m.group(2))) if m else (h, 0)


def write_csv(csv_path, paths, reports) -> None:
    hids = sorted({i.hid for r in reports for i in r.items}, key=_hid_key)
    capstone = [r for r in reports if r.extra.get("capstone")]
    ranks = {}
    eligible = sorted((r for r in capstone if r.extra.get("within_budget")),
                      key=lambda r: (-r.extra["accuracy"], r.extra["size_bytes"]))
    for k, r in enumerate(eligible, 1):
        ranks[id(r)] = k
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        head = ["file", "notebook", *hids, "total", "max"]
        if capstone:
            head += ["capstone_size_bytes", "capstone_accuracy", "capstone_rank"]
        w.writerow(head)
        for path, r in zip(paths, reports):
            got = {i.hid: i.earned for i in r.items}
            row = [path.name, r.exercise, *[("" if h not in got else _num(got[h])) for h in hids],
                   _num(r.score), _num(r.total)]
            if capstone:
                e = r.extra
                row += [e.get("size_bytes", ""), "" if "accuracy" not in e else f"{e['accuracy']:.4f}",
                        ranks.get(id(r), "")]
            w.writerow(row)


def _num(x):
    return int(x) if float(x).is_integer() else x


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_lib.grade", description=__doc__.splitlines()[0])
    ap.add_argument("notebook", help="an exercise notebook, or a folder of submissions")
    ap.add_argument("--csv", help="(folder) write one row per learner to this CSV file")
    ap.add_argument("--feedback", help="(folder) where to write one feedback file per learner "
                                       "(default: next to the CSV, <csv name>_feedback/)")
    ap.add_argument("--jobs", type=int, default=1, help="(folder) notebooks graded at once (default 1)")
    ap.add_argument("--cell-timeout", type=float, default=120, help="seconds one cell may run (default 120)")
    ap.add_argument("--check-timeout", type=float, default=30, help="seconds one check may run (default 30)")
    ap.add_argument("--total-timeout", type=float, default=900, help="seconds one notebook may run (default 900)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the score is below full marks")
    args = ap.parse_args(argv)
    limits = dict(cell_timeout=args.cell_timeout, check_timeout=args.check_timeout, total_timeout=args.total_timeout)
    target = Path(args.notebook)
    if target.is_dir():
        reports = grade_folder(target, csv_path=args.csv, feedback_dir=args.feedback, jobs=args.jobs, **limits)
        for r in reports:
            print(f"{Path(r.notebook).name}: {r.score}/{r.total}" + (f"  ({r.exercise})" if r.exercise else
                                                                     "  (not graded)"))
        if args.csv:
            print(f"wrote {args.csv}")
        return 0 if reports else 2
    report = grade(target, **limits)
    print("\n".join(report.lines()), flush=True)
    if not report.total:
        return 2
    return 1 if args.strict and report.score < report.total else 0


if __name__ == "__main__":
    sys.exit(main())
