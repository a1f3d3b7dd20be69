"""Beyond accuracy, headless: robustness, calibration, uncertainty, fairness (chapter 3)."""
