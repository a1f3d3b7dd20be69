#!/usr/bin/env python3
"""Build the committed notebooks and the course map from their percent-format sources.

    python tools/build_notebooks.py            # notebooks/src/*.py -> notebooks/*.ipynb, notebooks/README.md, instructor/
    python tools/build_notebooks.py --check    # exit 1 if a committed notebook or the course map is stale
    python tools/build_notebooks.py NAME ...   # only these sources (stem or path); the map is always rebuilt

Authoring format: cells start with ``# %%`` (code) or ``# %% [markdown]``
(Markdown lines prefixed by ``# ``). The first chunk is ``# %% [header]``: TOML
with number, title, syllabus, study_minutes, prerequisites and objectives; it
becomes the notebook's header cell, with the run time the test suite measured
(``notebooks/run_times.json``, written by ``tools/record_run_times.py``), and a
row of the course map ``notebooks/README.md`` (made from
``notebooks/README.in.md`` by replacing ``{{COURSE_MAP}}``). A code cell whose
first line is ``# parameters`` gets papermill's ``parameters`` tag. A
``# %% [output]`` chunk right after a code cell is that cell's stored stdout,
for the ``# NBVAL_CHECK_OUTPUT`` cells nbval compares. Notebooks get the
python3 kernelspec and no other outputs, so they stay small and reviewable.
"""
import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SRC, OUT = ROOT / "notebooks" / "src", ROOT / "notebooks"
RUN_TIMES = OUT / "run_times.json"
MAP_IN, MAP_OUT = OUT / "README.in.md", OUT / "README.md"
SYLLABUS = OUT / "syllabus.md"
HEADER_KEYS = {"number": str, "title": str, "syllabus": list, "study_minutes": int, "prerequisites": list,
               "objectives": list}
CHAPTERS = {"0": "Start here", "1": "Chapter 1: principles of distillation", "2": "Chapter 2: principles of compression",
            "3": "Chapter 3: beyond accuracy", "4": "Chapter 4: applications",
            "5": "Chapter 5: hands-on practices (graded)"}


def _strip(lines):
    return [l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines]


def parse_header(body: str, name: str) -> dict:
    try:
        meta = tomllib.loads("\n".join(_strip(body.splitlines())))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{name}: the [header] chunk is not valid TOML: {e}") from None
    for key, typ in HEADER_KEYS.items():
        if not isinstance(meta.get(key), typ):
            raise ValueError(f"{name}: header needs {key} ({typ.__name__}), got {meta.get(key)!r}")
    return meta


def run_times() -> dict:
    return json.loads(RUN_TIMES.read_text()) if RUN_TIMES.exists() else {}


def fmt_run(stem: str, times: dict) -> str:
    t = times.get(stem)
    if not t:
        return "not measured yet"
    return f"{t['seconds']:.0f} s"


def syllabus_names() -> dict:
    names = {}
    if SYLLABUS.exists():
        for m in re.finditer(r"^- ([A-Z]\d+) ([^:]+):", SYLLABUS.read_text(), flags=re.M):
            names[m.group(1)] = m.group(2).strip()
    return names


def titles() -> dict:
    """stem -> (number, title) for every notebook source (for prerequisite links)."""
    out = {}
    for src in sorted(SRC.glob("*.py")):
        m = re.match(r"# %% \[header\]\n((?:#.*\n)+)", src.read_text(encoding="utf-8"))
        if m:
            meta = parse_header(m.group(1), src.name)
            out[src.stem] = (meta["number"], meta["title"])
    return out


def header_markdown(meta: dict, stem: str, times: dict, known: dict) -> str:
    syl = syllabus_names()
    ids = ", ".join(f"{i} ({syl[i]})" if i in syl else i for i in meta["syllabus"])
    prereq = ", ".join(f"[{known[p][0]} {known[p][1]}]({p}.ipynb)" if p in known else p
                       for p in meta["prerequisites"]) or "none"
    t = times.get(stem)
    run = (f"about {t['seconds']:.0f} s on two CPU cores (measured by the test suite on {t['date']})"
           if t else "not measured yet")
    objectives = "\n".join(f"- {o}" for o in meta["objectives"])
    return (f"# {meta['number']} {meta['title']}\n\n"
            f"**Syllabus:** {ids}.  \n**Study time:** about {meta['study_minutes']} minutes. "
            f"**Run time:** {run}.  \n**Prerequisites:** {prereq}.\n\n"
            f"By the end you will be able to\n{objectives}")


def convert(text: str, stem: str = "notebook", times: dict | None = None, known: dict | None = None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    chunks = re.split(r"^# %%(.*)$", text, flags=re.M)
    for header, body in zip(chunks[1::2], chunks[2::2]):
        body = body.strip("\n")
        if "[header]" in header:
            if nb.cells:
                raise ValueError(f"{stem}: the [header] chunk must come first")
            meta = parse_header(body, stem)
            nb.metadata["course"] = meta
            nb.cells.append(nbformat.v4.new_markdown_cell(header_markdown(meta, stem, times or {}, known or {})))
            continue
        if "[output]" in header:
            if not nb.cells or nb.cells[-1].cell_type != "code":
                raise ValueError("a '# %% [output]' chunk must follow a code cell")
            lines = _strip(body.splitlines())
            nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
            nb.cells[-1].execution_count = 1
            continue
        if "[markdown]" in header:
            nb.cells.append(nbformat.v4.new_markdown_cell("\n".join(_strip(body.splitlines())).strip("\n")))
        else:
            cell = nbformat.v4.new_code_cell(body)
            if body.startswith("# parameters"):
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def render(src: Path, times=None, known=None) -> str:
    times = run_times() if times is None else times
    known = titles() if known is None else known
    return nbformat.writes(convert(src.read_text(encoding="utf-8"), src.stem, times, known)) + "\n"


def course_map(times=None) -> str:
    times = run_times() if times is None else times
    known = titles()
    rows, chapter = [], None
    total_study, total_run = 0, 0.0
    for src in sorted(SRC.glob("*.py")):
        text = src.read_text(encoding="utf-8")
        m = re.match(r"# %% \[header\]\n((?:#.*\n)+)", text)
        if not m:
            raise ValueError(f"{src.name}: every notebook source starts with a '# %% [header]' chunk")
        meta = parse_header(m.group(1), src.name)
        ch = meta["number"].split(".")[0]
        if ch != chapter:
            chapter = ch
            rows.append(f"| **{CHAPTERS.get(ch, 'Chapter ' + ch)}** | | | | | |")
        prereq = ", ".join(known[p][0] if p in known else p for p in meta["prerequisites"]) or "none"
        objectives = "; ".join(meta["objectives"])
        rows.append(f"| `{src.stem}.ipynb` ({meta['number']} {meta['title']}) | {', '.join(meta['syllabus'])} | "
                    f"{objectives} | {prereq} | {meta['study_minutes']} min | {fmt_run(src.stem, times)} |")
        total_study += meta["study_minutes"]
        total_run += times.get(src.stem, {}).get("seconds", 0.0)
    table = ("| notebook | syllabus | you will be able to | prerequisites | study | run |\n"
             "|---|---|---|---|---|---|\n" + "\n".join(rows))
    dates = sorted({t["date"] for t in times.values()})
    table += (f"\n\n{len(list(SRC.glob('*.py')))} notebooks: about {total_study / 60:.1f} hours of study, "
              f"{total_run / 60:.1f} minutes of running time one after another"
              + (f" (run times measured by the test suite, {dates[0]} to {dates[-1]})." if dates else "."))
    return MAP_IN.read_text(encoding="utf-8").replace("{{COURSE_MAP}}", table)


def sources(names):
    for src in sorted(SRC.glob("*.py")):
        if not names or src.stem in names or str(src) in names:
            yield src, OUT / f"{src.stem}.ipynb"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    names = {Path(n).stem for n in args.names} | set(args.names)
    times, known = run_times(), titles()
    stale = []
    for src, out in sources(names if args.names else None):
        text = render(src, times, known)
        if args.check:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                stale.append(out)
        else:
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(ROOT)}")
    if MAP_IN.exists():
        cmap = course_map(times)
        if args.check:
            if not MAP_OUT.exists() or MAP_OUT.read_text(encoding="utf-8") != cmap:
                stale.append(MAP_OUT)
        else:
            MAP_OUT.write_text(cmap, encoding="utf-8")
            print(f"wrote {MAP_OUT.relative_to(ROOT)}")
    sys.path.insert(0, str(ROOT / "tools"))
    import instructor_kit  # the instructor's kit is derived from the same sources

    kit = instructor_kit.render_all()
    if args.check:
        stale += [p for p, t in kit.items() if not p.exists() or p.read_text(encoding="utf-8") != t]
    else:
        instructor_kit.main([])
    if stale:
        print("stale (run python tools/build_notebooks.py):", *[str(s.relative_to(ROOT)) for s in stale], sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
