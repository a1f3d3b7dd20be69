#!/usr/bin/env python3
"""Build a notebook from a percent-format script (the course's authoring format).

    python tools/py2nb.py SOURCE.py OUT.ipynb

Cells start with ``# %%`` (code) or ``# %% [markdown]`` (Markdown, each line
prefixed by ``# ``). A code cell whose first line is ``# parameters`` gets the
papermill ``parameters`` tag. The notebook gets the python3 kernelspec and no
outputs, so it is ready to commit.
"""
import re
import sys
from pathlib import Path

import nbformat


def convert(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    chunks = re.split(r"^# %%(.*)$", text, flags=re.M)
    for header, body in zip(chunks[1::2], chunks[2::2]):
        body = body.strip("\n")
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


if __name__ == "__main__":
    src, out = map(Path, sys.argv[1:3])
    nbformat.write(convert(src.read_text()), out)
    print(f"wrote {out}")
