"""tools/cpu_bench/benchmark_linear.py on a tiny scale: one line per
shape and setting, with both implementations' times and their ratio. Its
timings are not checked here (timing belongs in the benchmark)."""
import re
import subprocess

from ..conftest import PYTHON, ROOT, run_tool

TOOL = 'tools/cpu_bench/benchmark_linear.py'


def test_prints_both_implementations_per_shape_and_setting():
    out = run_tool([PYTHON, TOOL, '--shapes', '16,8,4', '3,5,7', '--rounds',
                    '1', '--threads', '1']).stdout
    rows = re.findall(
        r'rows=(\d+) +C_in=(\d+) +C_out=(\d+) +(fwd\+bwd|fwd) +F\.linear +'
        r'[\d.]+ ms +\d+ GFLOP/s +oneDNN +[\d.]+ ms +\d+ GFLOP/s +'
        r'oneDNN/F\.linear [\d.]+', out)
    assert rows == [(r, i, o, setting) for r, i, o in (('16', '8', '4'),
                                                        ('3', '5', '7'))
                    for setting in ('fwd', 'fwd+bwd')]


def test_refuses_zero_rounds():
    proc = subprocess.run([PYTHON, TOOL, '--rounds', '0'], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and '--rounds' in proc.stderr
