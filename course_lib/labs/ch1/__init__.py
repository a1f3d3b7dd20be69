"""Chapter 1's live experiments (see course_lib/LAYOUT.md for the five names each module exposes)."""
