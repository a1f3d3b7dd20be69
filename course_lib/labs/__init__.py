"""Live experiments, one module per dashboard: each exposes setup, run, render, summary and dashboard."""
