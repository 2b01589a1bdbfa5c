"""What the micro-benchmark tools share (tools/cpu_bench/benchmark_*):
their command line and their side-by-side timing."""
import argparse
import statistics
import time
from typing import Callable, Dict, Hashable, Sequence

import torch

from .memory import keep_freed_memory

WARMUP = 2


def parse_microbench_args(description: str, shapes: Sequence[str],
                          shape_help: str) -> argparse.Namespace:
    """``--shapes``, ``--rounds`` (at least 1) and ``--threads``; sets the
    thread count and keeps freed memory in the process, as
    ``accel.keep_cpu_memory`` does on CPU (else large tensors would be
    page-faulted in afresh at every call, and that is what would be
    timed)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--shapes', nargs='+', default=shapes,
                        help=shape_help)
    parser.add_argument('--rounds', type=int, default=20,
                        help='timed rounds, at least 1')
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    torch.set_num_threads(args.threads)
    keep_freed_memory()
    return args


def median_ms(calls: Dict[Hashable, Callable[[], object]],
              rounds: int) -> Dict[Hashable, float]:
    """The median time of each call in ms, the calls alternating within
    each round, after ``WARMUP`` untimed rounds."""
    times = {key: [] for key in calls}
    for r in range(rounds + WARMUP):
        for key, call in calls.items():
            tic = time.perf_counter()
            call()
            if r >= WARMUP:
                times[key].append(time.perf_counter() - tic)
    return {key: statistics.median(t) * 1e3 for key, t in times.items()}
