"""Compression methods, headless: pruning, quantization, low-rank factorisation, byte-exact encodings, Pareto fronts."""
