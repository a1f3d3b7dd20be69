"""Live experiments, one module per dashboard: each exposes setup, run, render, summary and dashboard.

``discover()`` is the one place that finds them: the benchmarks (``make bench``), the lab tests and the
workshop pages (``make workshop``) all list labs through it, in course order.
"""
from __future__ import annotations

import importlib
import pkgutil


def discover(only=None):
    """Yield ``(chapter, name, module)`` for every ``labs/chN/<name>.py`` that exposes ``dashboard()``.

    ``only``: an iterable of substrings; a lab is kept when its dotted name contains one of them.
    """
    for ch in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg):
        pkg = importlib.import_module(f"{__name__}.{ch}")
        for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            dotted = f"{__name__}.{ch}.{m.name}"
            if only and not any(o in dotted for o in only):
                continue
            mod = importlib.import_module(dotted)
            if callable(getattr(mod, "dashboard", None)):
                yield ch, m.name, mod
