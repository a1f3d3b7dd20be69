"""course_lib: the small library behind the model compression and distillation course.

Modules, one job each: ``data`` (offline data sets), ``models`` (builders and
accounting), ``train`` (fast seeded training, cached teachers), ``losses``
(distillation losses and their registry), ``metrics``, ``plots``, ``widgets``
(live dashboards).
"""
__version__ = "0.1.0"
