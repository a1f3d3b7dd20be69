"""Chapter 1's live experiments (see course_lib/LAYOUT.md for the five names each module exposes).

They train with ``train.kd_objective``, which computes the teacher's soft targets once per temperature
rather than on every step (a slider move pays for every step).
"""
