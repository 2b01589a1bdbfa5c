"""tools/cpu_bench/benchmark_attention.py on a tiny scale: one line
per shape and setting, each with both kernels' times and their ratio. Its
timings are not checked here (timing belongs in the benchmark)."""
import re
import subprocess

from ..conftest import PYTHON, ROOT, run_tool

TOOL = 'tools/cpu_bench/benchmark_attention.py'


def test_prints_both_kernels_per_shape_and_setting():
    out = run_tool([PYTHON, TOOL, '--shapes', '2,1,5,4', '3,2,7,8',
                    '--rounds', '1', '--threads', '1']).stdout
    rows = re.findall(
        r'B=(\d+) +heads=(\d+) +N=(\d+) +d=(\d+) +(fp32 fwd\+bwd|fp32 fwd|'
        r'bf16 fwd) +sdpa +([\d.]+) ms +explicit +([\d.]+) ms +'
        r'explicit/sdpa ([\d.]+)', out)
    assert [row[:5] for row in rows] == [
        (b, h, n, d, setting) for b, h, n, d in (('2', '1', '5', '4'),
                                                 ('3', '2', '7', '8'))
        for setting in ('fp32 fwd', 'bf16 fwd', 'fp32 fwd+bwd')]


def test_refuses_zero_rounds():
    proc = subprocess.run([PYTHON, TOOL, '--rounds', '0'], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and '--rounds' in proc.stderr
