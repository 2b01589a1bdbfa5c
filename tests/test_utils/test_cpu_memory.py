"""keep_freed_memory: freed blocks are reused instead of faulted in again.

Each check runs in a fresh interpreter: the setting is process-wide and
cannot be undone, and the pytest process must not depend on it.
"""
import subprocess
import sys
import warnings

import pytest

from mmcakd.utils import cpu_memory

# Allocate, touch and free a 256 MiB tensor, then count the minor page faults
# of doing it again. glibc maps a block that large afresh every time (65,536
# faults of 4 KiB) unless freed memory is kept.
PROBE = '''
import resource, sys, torch
from mmcakd.utils.cpu_memory import keep_freed_memory
if sys.argv[1] == 'keep':
    assert keep_freed_memory()
def cycle():
    torch.ones(64 * 2**20)
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
cycle()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, '-c', PROBE, mode],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(cpu_memory._glibc() is None, reason='needs glibc')
def test_freed_memory_is_reused():
    assert faults('default') > 30000  # 256 MiB faulted in again
    assert faults('keep') < 1000  # served from the kept heap


def test_without_glibc_one_warning_and_nothing_changed(monkeypatch):
    monkeypatch.setattr(cpu_memory, '_glibc', lambda: None)
    monkeypatch.setattr(cpu_memory, '_applied', False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert not cpu_memory.keep_freed_memory()
    assert len(caught) == 1
    assert 'accel.keep_cpu_memory' in str(caught[0].message)
