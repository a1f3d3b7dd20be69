"""Benchmark cases for the chapter-2 sliders: bit width (C4) and rank (C6).

The runner calls ``dashboard.update(**move)`` for every move and records the
median and 95th percentile of the time each takes.
"""
from course_lib import lowrank, quantize


def cases():
    bits_dash = quantize.bitwidth_dashboard(quantize.default_lab(), background=False)
    bit_moves = []
    for i, bits in enumerate([8, 2, 5, 3, 7, 4, 6, 2, 8, 3, 4, 5]):
        bit_moves.append(dict(bits=bits, scheme=quantize.SCHEMES[i % 2], steps=(0, 5, 10, 20)[i % 4]))
        bit_moves.append(dict(bits=bits, scheme=quantize.SCHEMES[(i + 1) % 2]))
    rank_dash = lowrank.rank_dashboard(lowrank.default_lab(), background=False)
    rank_moves = []
    for i, rank in enumerate([1, 128, 8, 100, 2, 64, 16, 120, 4, 32, 90, 12]):
        rank_moves.append(dict(rank=rank, epochs=(2, 0, 3, 1)[i % 4]))
        rank_moves.append(dict(rank=max(1, rank // 2)))
    return [
        {"case": "bitwidth_slider", "dashboard": bits_dash, "moves": bit_moves},
        {"case": "rank_slider", "dashboard": rank_dash, "moves": rank_moves},
    ]
