#!/usr/bin/env python3
"""Build the committed notebooks from their percent-format sources.

    python tools/build_notebooks.py            # notebooks/src/*.py -> notebooks/*.ipynb
    python tools/build_notebooks.py --check    # exit 1 if a committed notebook is stale
    python tools/build_notebooks.py NAME ...   # only these sources (stem or path)

Authoring format: cells start with ``# %%`` (code) or ``# %% [markdown]``
(Markdown lines prefixed by ``# ``). A code cell whose first line is
``# parameters`` gets papermill's ``parameters`` tag. A ``# %% [output]`` chunk
right after a code cell is that cell's stored stdout (lines prefixed by ``# ``),
for the ``# NBVAL_CHECK_OUTPUT`` cells nbval compares. Notebooks get the python3
kernelspec and no other outputs, so they stay small and reviewable.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
PAIRS = [(ROOT / "notebooks" / "src", ROOT / "notebooks")]


def convert(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    chunks = re.split(r"^# %%(.*)$", text, flags=re.M)
    for header, body in zip(chunks[1::2], chunks[2::2]):
        body = body.strip("\n")
        if "[output]" in header:
            if not nb.cells or nb.cells[-1].cell_type != "code":
                raise ValueError("a '# %% [output]' chunk must follow a code cell")
            lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.splitlines()]
            nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
            nb.cells[-1].execution_count = 1
            continue
        if "[markdown]" in header:
            lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.splitlines()]
            nb.cells.append(nbformat.v4.new_markdown_cell("\n".join(lines).strip("\n")))
        else:
            cell = nbformat.v4.new_code_cell(body)
            if body.startswith("# parameters"):
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def render(src: Path) -> str:
    return nbformat.writes(convert(src.read_text(encoding="utf-8"))) + "\n"


def sources(names):
    for src_dir, out_dir in PAIRS:
        for src in sorted(src_dir.glob("*.py")):
            if not names or src.stem in names or str(src) in names:
                yield src, out_dir / f"{src.stem}.ipynb"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    names = {Path(n).stem for n in args.names} | set(args.names)
    stale = []
    for src, out in sources(names if args.names else None):
        text = render(src)
        if args.check:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                stale.append(out)
        else:
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(ROOT)}")
    if stale:
        print("stale notebooks (run python tools/build_notebooks.py):", *[str(s.relative_to(ROOT)) for s in stale], sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
