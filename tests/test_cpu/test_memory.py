"""keep_freed_memory: freed blocks are reused instead of faulted in again.

The fault counts are taken in fresh interpreters: the setting is
process-wide and cannot be undone, so each mode needs a process of its own.
"""
import subprocess
import sys
import warnings

import pytest

from mmcakd.cpu import memory as cpu_memory

# Allocate, touch and free a 256 MiB tensor, as a training step does with
# its large tensors, and count the minor page faults of 4 such cycles after 8
# warm-up cycles. glibc maps a block that large afresh every time (65,536
# faults of 4 KiB each) unless freed memory is kept; the kept heap needs a
# cycle or two to hold blocks that fit torch's aligned requests, hence the
# warm-up (as in a training run's first steps).
PROBE = '''
import resource, sys, torch
from mmcakd.cpu.memory import keep_freed_memory
if sys.argv[1] == 'keep':
    assert keep_freed_memory()
def cycle():
    torch.ones(64 * 2**20)
for _ in range(8):
    cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    cycle()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, '-c', PROBE, mode],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(cpu_memory._glibc() is None, reason='needs glibc')
def test_freed_memory_is_reused():
    default, kept = faults('default'), faults('keep')
    # 4 x 256 MiB faulted in again: 4 x 65,536 faults of 4 KiB pages (4 x 128
    # where the kernel backs them with 2 MiB transparent huge pages).
    assert default >= 400
    assert kept * 20 < default  # served from the kept heap


def test_without_glibc_one_warning_and_nothing_changed(monkeypatch):
    monkeypatch.setattr(cpu_memory, '_glibc', lambda: None)
    monkeypatch.setattr(cpu_memory, '_applied', False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert not cpu_memory.keep_freed_memory()
    assert len(caught) == 1
    assert 'accel.keep_cpu_memory' in str(caught[0].message)


# A model that asks for kept memory leaves the process as it was; the entry
# point's call applies it (within accel, 'auto': on a machine without CUDA;
# without accel, nothing).
ENTRY = '''
import torch
from mmengine.config import ConfigDict
from mmcakd.cpu import memory as cpu_memory
from tests.test_models.tiny import distiller
distiller(accel=dict(keep_cpu_memory=True), mrt=None)
assert not cpu_memory.is_applied(), 'the model changed the allocator'
cfg = ConfigDict(model=dict(accel=dict(keep_cpu_memory=False)))
assert not cpu_memory.keep_freed_memory_if_asked(cfg)
assert not cpu_memory.keep_freed_memory_if_asked(ConfigDict(model=dict()))
from mmcakd.utils import apply_process_settings
apply_process_settings(ConfigDict(model=dict(accel=False)))  # the model says
assert not cpu_memory.is_applied()
cfg = ConfigDict(model=dict(accel=dict()))
assert cpu_memory.keep_freed_memory_if_asked(cfg) == (
    not torch.cuda.is_available())
print('ok')
'''


@pytest.mark.skipif(cpu_memory._glibc() is None, reason='needs glibc')
def test_entry_points_not_models_keep_freed_memory():
    from ..conftest import ROOT
    out = subprocess.run([sys.executable, '-c', ENTRY], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == 'ok'
