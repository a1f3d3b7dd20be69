"""Distillation methods beyond the loss itself, headless: training schemes, hints, gradient statistics."""
