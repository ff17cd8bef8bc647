"""Timing helper shared by the benchmark scripts (scripts/bench-*.py): the median wall time of
a call after warm-up runs, so every comparison with `drht bench` is measured the same way."""
import time


def median_ms(fn, runs, warmup=1):
    """Runs `fn` warmup + runs times; the median of the last `runs` calls, in milliseconds."""
    times = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]
