"""Timing helpers shared by the peers_*.py scripts (run from benchmarks/, so importable)."""
import statistics
import time


def median_ms(fn, repeat=7):
    """The median of `repeat` timed calls of fn, in milliseconds, after one untimed call."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)
