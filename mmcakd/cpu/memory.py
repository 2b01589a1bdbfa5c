"""Keep freed CPU memory in the process, as CUDA's caching allocator does.

glibc's malloc serves every block larger than its mmap threshold (at most
32 MiB) with a fresh ``mmap`` and gives it back with ``munmap`` when freed.
A training step allocates and frees the same large tensors every time
(activations, their gradients, a weight's gradient: 170 MiB for the PCA
projector's 2048 -> 2304 convolution), so every step pays a page fault per
4 KiB page of each: on Swin-T -> ResNet-50 at batch 8 on 2 CPU cores,
about 240k-290k minor faults per CAKD step and 50k-70k per plain ResNet-50
step (``benchmarks/step_cost/swin-t_resnet50_default_malloc.json``).

:func:`keep_freed_memory` tells glibc to serve every block from its heap
and never to give the heap's free top back to the system, so that freed
blocks are reused by the next step. Nothing computed changes; the process
keeps its peak memory until it exits. It is process-wide and inherited by
processes forked later (DataLoader workers); it applies to the main arena,
i.e. to allocations of the main thread, where the training step runs
(glibc's per-thread arenas still map blocks of 64 MiB and more). It says
nothing about another allocator preloaded in glibc's place (jemalloc,
tcmalloc), which keeps its own policy.
"""
import ctypes
import warnings

import torch

# mallopt(3) parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
# The largest value mallopt takes (an int): never trim a heap top below it.
_NEVER_TRIM = 2**31 - 1

_applied = False


def _glibc():
    """The C library if it is glibc (it has ``gnu_get_libc_version``)."""
    try:
        libc = ctypes.CDLL(None)  # the symbols of this process
    except OSError:
        return None
    return libc if hasattr(libc, 'gnu_get_libc_version') else None


def is_applied() -> bool:
    """Whether :func:`keep_freed_memory` is in effect in this process."""
    return _applied


def keep_freed_memory() -> bool:
    """Make glibc keep and reuse freed memory; True if it is in effect.

    Without glibc (macOS, musl, Windows) nothing is changed and one warning
    names the switch, ``accel.keep_cpu_memory``.
    """
    global _applied
    if _applied:
        return True
    libc = _glibc()
    if libc is None:
        warnings.warn('accel.keep_cpu_memory: this C library is not glibc; '
                      'freed memory is returned as usual')
        return False
    if not (libc.mallopt(M_MMAP_MAX, 0)
            and libc.mallopt(M_TRIM_THRESHOLD, _NEVER_TRIM)):
        warnings.warn('accel.keep_cpu_memory: glibc refused mallopt; freed '
                      'memory may be returned as usual')
        return False
    _applied = True
    return True


def keep_freed_memory_if_asked(cfg) -> bool:
    """Apply a config's ``model.accel.keep_cpu_memory`` to this process
    (``'auto'``, the default within ``accel``: on a machine without CUDA;
    without ``accel`` nothing). Called by the entry points
    (``tools/train.py``, ``tools/test.py``, through
    :func:`mmcakd.utils.apply_process_settings`) before they build
    anything: a process-wide setting is theirs to make, never a model
    constructor's (``tools/cpu_bench/benchmark_step.py`` applies it from
    its ``--accel``). True if it is in effect.
    """
    model = cfg.get('model') or {}
    accel = model.get('accel') if hasattr(model, 'get') else None
    if accel is None:  # no device tuning asked for
        return is_applied()
    asked = accel.get('keep_cpu_memory', 'auto')
    if asked == 'auto':
        asked = not torch.cuda.is_available()
    return keep_freed_memory() if asked is True else is_applied()
