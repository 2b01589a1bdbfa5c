"""tools/cpu_bench/benchmark_conv_layout.py on a tiny scale: one line
per shape with both layouts' times and their ratios. Its timings are not
checked here (timing belongs in the benchmark)."""
import re
import subprocess

from ..conftest import PYTHON, ROOT, run_tool

TOOL = 'tools/cpu_bench/benchmark_conv_layout.py'


def test_prints_both_layouts_per_shape():
    out = run_tool([PYTHON, TOOL, '--shapes', '2,3,4,6,1', '1,4,2,5,2',
                    '--rounds', '1', '--threads', '1']).stdout
    times = r' +'.join(rf'{part} [\d.]+' for part in (
        'fwd', 'input grad', 'weight grad', r'bn fwd\+bwd'))
    rows = re.findall(
        r'B=(\d+) +(\d+) -> (\d+) +(\d+)x\d+ stride (\d) +NCHW: ' + times +
        r' +channels-last: ' + times +
        r' +channels-last/NCHW: conv grads [\d.]+ bn [\d.]+', out)
    assert rows == [('2', '3', '4', '6', '1'), ('1', '4', '2', '5', '2')]


def test_refuses_zero_rounds():
    proc = subprocess.run([PYTHON, TOOL, '--rounds', '0'], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and '--rounds' in proc.stderr
