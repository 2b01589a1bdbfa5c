"""tools/cpu_bench/benchmark_step.py on a tiny scale: it runs every
part side by side and reports what it promises. Its timings are not checked
here (timing belongs in the benchmark itself, not in unit tests)."""
import json
import os.path as osp
import subprocess

import pytest
import torch

from ..conftest import PYTHON, ROOT, run_tool

TOOL = 'tools/cpu_bench/benchmark_step.py'
PAIR = 'vit-tiny_resnet-tiny_fashion-mnist.py'


def test_side_by_side_rows_and_process_wide_allocator(tmp_path):
    out = tmp_path / 'step.json'
    proc = run_tool([
        PYTHON, TOOL, f'configs/cakd/{PAIR}', f'configs/kd/kd_{PAIR}',
        '--batch-size', '4', '--rounds', '2', '--warmup', '1',
        '--no-memory', '--accel', 'teacher_dtype=None',
        'keep_cpu_memory=True', '--out', str(out)
    ])
    result = json.loads(out.read_text())
    rows = {'cakd', 'kd', 'cakd+accel', 'kd+accel'}
    assert set(result['seconds']) == rows | {'student', 'teacher'}
    assert set(result['time_ratio']) == rows
    limit = result['seconds']['student'] + result['seconds']['teacher']
    for name in rows:  # seconds are rounded to 0.1 ms in the JSON
        assert result['time_ratio'][name] == pytest.approx(
            result['seconds'][name] / limit, rel=0.05)
    assert set(result['page_faults']) == set(result['seconds'])
    assert all(isinstance(n, int) and n >= 0
               for n in result['page_faults'].values())
    # keep_cpu_memory acts on the whole process, and the output says so.
    assert result['keep_cpu_memory'] is True
    assert 'the limit included' in proc.stdout
    assert result['input_size'] == [1, 28, 28]
    # The CPU the timings were taken on, as torch sees it.
    machine = result['machine']
    assert machine['cpu_capability'] == \
        torch.backends.cpu.get_cpu_capability()
    assert machine['cpu_native_bf16'] is bool(
        torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert machine['cpu'] and machine['cpu'] in proc.stdout


def test_plain_run_leaves_the_allocator_alone(tmp_path):
    out = tmp_path / 'step.json'
    run_tool([
        PYTHON, TOOL, f'configs/kd/kd_{PAIR}', '--batch-size', '4',
        '--rounds', '1', '--warmup', '1', '--no-memory', '--out', str(out)
    ])
    result = json.loads(out.read_text())
    assert result['keep_cpu_memory'] is False
    assert set(result['seconds']) == {'student', 'teacher', 'distiller'}


def test_ablate_adds_one_row_per_changed_switch(tmp_path):
    out = tmp_path / 'step.json'
    run_tool([
        PYTHON, TOOL, f'configs/cakd/{PAIR}', '--batch-size', '4',
        '--rounds', '1', '--warmup', '1', '--no-memory', '--accel',
        'attention=explicit', '--ablate', 'attention=sdpa',
        '--out', str(out)
    ])
    result = json.loads(out.read_text())
    rows = {'cakd', 'cakd+accel', 'cakd+accel,attention=sdpa'}
    assert set(result['time_ratio']) == rows
    assert result['ablate'] == {'attention': 'sdpa'}


@pytest.mark.parametrize('argv,message', [
    (['--ablate', 'x=1'], 'give --accel too'),
    (['--accel', 'keep_cpu_memory=True', '--ablate', 'keep_cpu_memory=False'],
     'process-wide'),
    pytest.param(['--device', 'cuda'], 'sees no GPU',
                 marks=pytest.mark.skipif(torch.cuda.is_available(),
                                          reason='a GPU is here')),
])
def test_ablate_refuses_what_it_cannot_compare(argv, message):
    proc = subprocess.run([PYTHON, TOOL, f'configs/kd/kd_{PAIR}', *argv],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr
