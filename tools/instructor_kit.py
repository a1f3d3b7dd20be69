#!/usr/bin/env python3
"""Write the instructor's kit from the notebooks themselves, so it cannot drift from them.

    .venv/bin/python tools/instructor_kit.py            # writes instructor/README.md, plans and notebook notes
    .venv/bin/python tools/instructor_kit.py --check    # exit 1 if the committed kit is stale

Everything is read, never typed: study times from each notebook's header; run
times from notebooks/run_times.json and expected numbers from
instructor/claims/*.json (both recorded from the test suite's run by
tools/record_run_times.py); the points to make from each notebook's "What we
learned" section; the prediction questions and their answers from its
"Predict, then run" blocks; the live dashboards from the labs it imports.
The common mistakes and how to spot them are the one hand-written part,
kept in tools/instructor_mistakes.md.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
KIT = ROOT / "instructor"
CLAIMS = KIT / "claims"
MISTAKES = ROOT / "tools" / "instructor_mistakes.md"
WORKSHOP_MINUTES, BREAK_MINUTES = 180, 15
DAY_BLOCKS = [("Day 1, morning", 165), ("Day 1, afternoon", 165), ("Day 2, morning", 165), ("Day 2, afternoon", 165)]
# The order in which a short workshop takes notebooks: the core ideas first, then one from each later chapter.
WORKSHOP_PRIORITY = ["00_start_here", "ch1_01", "ch2_01", "ch2_04", "ch1_02", "ch2_06", "ch3_03", "ch4_12",
                     "ch3_01", "ch1_12"]


def _md_lines(chunk: str) -> list[str]:
    return [l[2:] if l.startswith("# ") else l.lstrip("#") for l in chunk.splitlines()]


def parse(src: Path) -> dict:
    text = src.read_text(encoding="utf-8")
    chunks = re.split(r"^# %%(.*)$", text, flags=re.M)
    meta, markdown, code = None, [], []
    for head, body in zip(chunks[1::2], chunks[2::2]):
        if "[header]" in head:
            meta = tomllib.loads("\n".join(_md_lines(body.strip("\n"))))
        elif "[markdown]" in head:
            markdown.append("\n".join(_md_lines(body.strip("\n"))))
        elif "[output]" not in head:
            code.append(body)
    md = "\n\n".join(markdown)
    predictions = []
    for m in re.finditer(r"\*\*Predict, then run\.\*\*(.*?)<details><summary>Answer</summary>(.*?)</details>", md, re.S):
        q = " ".join(m.group(1).split())
        a = " ".join(m.group(2).split())
        predictions.append((q, a))
    learned = []
    m = re.search(r"^## What we learned\s*\n(.*?)(?=^#|\Z)", md, re.S | re.M)
    if m:
        for item in re.split(r"\n- ", "\n" + m.group(1).strip()):
            item = " ".join(item.split()).lstrip("- ")
            if item:
                learned.append(item)
    labs = sorted(set(re.findall(r"course_lib\.labs\.(ch\d)\s+import\s+(\w+)", "\n".join(code))) |
                  set(re.findall(r"course_lib\.labs\.(ch\d)\.(\w+)", "\n".join(code))))
    return {"stem": src.stem, "meta": meta, "predictions": predictions, "learned": learned,
            "labs": [f"{c}.{n}" for c, n in labs]}


def load_all():
    times = json.loads((ROOT / "notebooks" / "run_times.json").read_text()) if (ROOT / "notebooks" / "run_times.json").exists() else {}
    nbs = [parse(p) for p in sorted(SRC.glob("*.py"))]
    nbs = [n for n in nbs if n["meta"]]
    for n in nbs:
        n["run_s"] = times.get(n["stem"], {}).get("seconds")
        f = CLAIMS / f"{n['stem']}.json"
        n["claims"] = json.loads(f.read_text())["claims"] if f.exists() else []
    return nbs


def _fmt_numbers(numbers: dict) -> str:
    def f(v):
        if isinstance(v, float):
            return f"{v:.3g}"
        if isinstance(v, list):
            return "[" + ", ".join(f(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
        return str(v)
    return "; ".join(f"{k} = {f(v)}" for k, v in numbers.items())


def notebook_page(n: dict) -> str:
    m = n["meta"]
    out = [f"# {m['number']} {m['title']}", "",
           f"Notebook `notebooks/{n['stem']}.ipynb`. Syllabus {', '.join(m['syllabus'])}. Study about "
           f"{m['study_minutes']} min; Run All " + (f"about {n['run_s']:.0f} s" if n["run_s"] else "not measured yet")
           + ".", "", "## Points to make"]
    out += [f"- {p}" for p in (n["learned"] or m["objectives"])]
    if n["labs"]:
        out += ["", "## Show live", "The notebook's dashboards (also in workshop mode, `make workshop`): " +
                ", ".join(f"`{l}`" for l in n["labs"]) + ". Each lab's `TRY` line on the workshop start page says "
                "what to move."]
    if n["predictions"]:
        out += ["", "## Pause here: the prediction questions and their answers"]
        for i, (q, a) in enumerate(n["predictions"], 1):
            out += [f"{i}. **Ask:** {q}", f"   **Answer:** {a}"]
    out += ["", "## Expected numbers"]
    if n["claims"]:
        out += ["Each line is a claim the notebook asserts, with what the test suite measured (SEED=1). Learners "
                "with another SEED get other numbers; the claim itself must hold.", "",
                "| claim | measured |", "|---|---|"]
        out += [f"| {c['sentence']} | {_fmt_numbers(c['numbers'])} |" for c in n["claims"]]
    else:
        out += ["Not recorded yet: run the test suite, then `tools/record_run_times.py`."]
    return "\n".join(out) + "\n"


def schedule(nbs: list, minutes: int, order: list[str]) -> tuple[list, int]:
    by_prefix = {}
    for n in nbs:
        by_prefix.setdefault(n["stem"], n)
    chosen, used = [], 0
    for key in order:
        n = next((x for x in nbs if x["stem"].startswith(key)), None)
        if n and n not in chosen and used + n["meta"]["study_minutes"] <= minutes:
            chosen.append(n)
            used += n["meta"]["study_minutes"]
    chosen.sort(key=lambda x: x["stem"])
    return chosen, used


def workshop_plan(nbs) -> str:
    teach = WORKSHOP_MINUTES - BREAK_MINUTES
    chosen, used = schedule(nbs, teach, WORKSHOP_PRIORITY)
    lines = [f"# A three-hour workshop", "",
             f"{WORKSHOP_MINUTES} minutes with one {BREAK_MINUTES}-minute break; the notebooks below take {used} "
             f"minutes of study by their headers. Learners run each notebook themselves (Run All takes the seconds "
             "shown); you show the dashboards live from `make workshop` and stop at every prediction question.", "",
             "| start | notebook | study | Run All | show live | pause for |", "|---|---|---|---|---|---|"]
    t, break_done = 0, False
    for n in chosen:
        if not break_done and t >= teach / 2:
            lines.append(f"| {t // 60}:{t % 60:02d} | break | {BREAK_MINUTES} min | | | |")
            t += BREAK_MINUTES
            break_done = True
        run = f"{n['run_s']:.0f} s" if n["run_s"] else "?"
        lines.append(f"| {t // 60}:{t % 60:02d} | [{n['meta']['number']} {n['meta']['title']}](notebooks/{n['stem']}.md) | "
                     f"{n['meta']['study_minutes']} min | {run} | {', '.join(n['labs']) or '-'} | "
                     f"{len(n['predictions'])} prediction question(s) |")
        t += n["meta"]["study_minutes"]
    lines += ["", f"Ends at {t // 60}:{t % 60:02d}. The order of preference for a short workshop is fixed in "
              "`tools/instructor_kit.py` (`WORKSHOP_PRIORITY`); the times come from the notebooks."]
    return "\n".join(lines) + "\n"


def course_plan(nbs) -> str:
    lines = ["# A two-day course", "",
             "Four half-days of about three hours, each with a break, covering the notebooks in course order until "
             "the time runs out; the rest is set as reading between the days. Times are the notebooks' study times.",
             ""]
    queue = [n for n in nbs if not n["stem"].startswith("ch5")]
    rest = []
    for title, minutes in DAY_BLOCKS:
        lines += [f"## {title} ({minutes} min of teaching + a 15-minute break)", "",
                  "| notebook | study | show live | pause for |", "|---|---|---|---|"]
        used = 0
        while queue and used + queue[0]["meta"]["study_minutes"] <= minutes:
            n = queue.pop(0)
            used += n["meta"]["study_minutes"]
            lines.append(f"| [{n['meta']['number']} {n['meta']['title']}](notebooks/{n['stem']}.md) | "
                         f"{n['meta']['study_minutes']} min | {', '.join(n['labs']) or '-'} | "
                         f"{len(n['predictions'])} question(s) |")
        lines += ["", f"{used} minutes planned.", ""]
    rest = queue
    if rest:
        lines += ["## Between and after the days", "", "Set as reading, with their graded exercises where they "
                  "have them (`exercises/`):", ""]
        lines += [f"- [{n['meta']['number']} {n['meta']['title']}](notebooks/{n['stem']}.md), "
                  f"{n['meta']['study_minutes']} min" for n in rest]
    return "\n".join(lines) + "\n"


def readme(nbs) -> str:
    total = sum(n["meta"]["study_minutes"] for n in nbs)
    lines = ["# Instructor's kit", "",
             "Generated by `tools/instructor_kit.py` from the notebooks, the run times and the claims the test suite "
             "recorded; do not edit by hand (edit the notebook, or `tools/instructor_mistakes.md`).", "",
             f"- [A three-hour workshop](workshop_3h.md) and [a two-day course](course_2days.md), planned from the "
             f"measured study times ({len(nbs)} notebooks, {total} minutes of study in all).",
             "- One page per notebook under [notebooks/](notebooks/): the points to make, the prediction questions "
             "with their answers, the dashboards to show live, and the numbers to expect.",
             "- Before the day: `make doctor` on every laptop (or one of them, with the rest installed from a "
             "wheelhouse: `make wheelhouse` once, copy `wheelhouse/`, then `make lab`), and `make workshop` on the "
             "projector machine.", ""]
    lines += [MISTAKES.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)


def render_all() -> dict:
    nbs = load_all()
    files = {KIT / "README.md": readme(nbs), KIT / "workshop_3h.md": workshop_plan(nbs),
             KIT / "course_2days.md": course_plan(nbs)}
    for n in nbs:
        files[KIT / "notebooks" / f"{n['stem']}.md"] = notebook_page(n)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    files = render_all()
    if args.check:
        stale = [p for p, t in files.items() if not p.exists() or p.read_text(encoding="utf-8") != t]
        extra = [p for p in (KIT / "notebooks").glob("*.md") if p not in files]
        if stale or extra:
            print("stale instructor kit (run tools/instructor_kit.py):",
                  *[str(p.relative_to(ROOT)) for p in stale + extra], sep="\n  ")
            return 1
        return 0
    (KIT / "notebooks").mkdir(parents=True, exist_ok=True)
    for p in (KIT / "notebooks").glob("*.md"):
        if p not in files:
            p.unlink()
    for p, t in files.items():
        p.write_text(t, encoding="utf-8")
    print(f"wrote {len(files)} files into {KIT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
