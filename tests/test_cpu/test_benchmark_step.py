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


@pytest.mark.parametrize('ablate,rows', [
    # an accel switch changed
    (['attention=sdpa'], {'cakd+accel,attention=sdpa'}),
    # pieces of the method in their plain torch form
    (['substitution=plain', 'bernoulli=plain', 'pca_layout=plain'],
     {'cakd+accel,substitution=plain', 'cakd+accel,bernoulli=plain',
      'cakd+accel,pca_layout=plain'}),
])
def test_ablate_adds_one_row_per_change(tmp_path, ablate, rows):
    out = tmp_path / 'step.json'
    run_tool([
        PYTHON, TOOL, f'configs/cakd/{PAIR}', '--batch-size', '4',
        '--rounds', '1', '--warmup', '1', '--no-memory', '--accel',
        'attention=explicit', '--ablate', *ablate, '--out', str(out)
    ])
    result = json.loads(out.read_text())
    assert set(result['time_ratio']) == {'cakd', 'cakd+accel'} | rows
    assert result['ablate'] == dict(a.split('=') for a in ablate)


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


def test_plain_pieces_compute_what_the_pieces_do():
    """The ablation compares like with like: each plain expression gives
    the piece's values and gradients (the Bernoulli draw its rate)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'plain_pieces', osp.join(ROOT, 'tools/cpu_bench/plain_pieces.py'))
    plain_pieces = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plain_pieces)
    from mmcakd.models.projectors.pca import PartialSubstitution
    from mmcakd.models.utils.seeded_random import SeededRandom

    torch.manual_seed(0)
    student = torch.randn(2, 5, 3, 4, 6)
    teacher = torch.randn(2, 5, 3, 4, 6)
    take = (torch.rand(2, 5, 3, 4, 6) < 0.5).float()
    weights = [torch.randn(2, 4, 5, 6) for _ in range(4)]
    grads = []
    for piece in (PartialSubstitution, plain_pieces.PlainSubstitution):
        s = student.clone().requires_grad_()
        outs = piece.apply(s, teacher, take)
        sum((o * w).sum() for o, w in zip(outs, weights)).backward()
        grads.append((outs, s.grad))
    for a, b in zip(grads[0][0], grads[1][0]):
        assert torch.equal(a, b)
    assert torch.equal(grads[0][1], grads[1][1])

    from mmcakd.models.projectors.pca import PCAProjector
    projector = PCAProjector(4, 8, num_heads=2)
    feat = torch.randn(8, 4, 7, 7)  # the channels-last path (392 > 36)
    tokens = projector.project_tokens(feat)
    torch.testing.assert_close(
        plain_pieces.plain_project_tokens(projector, feat), tokens)

    mask = plain_pieces.plain_bernoulli(SeededRandom(), (1000, 100), 0.25,
                                        torch.device('cpu'), torch.float32)
    assert mask.shape == (1000, 100) and mask.dtype == torch.float32
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    assert abs(mask.mean().item() - 0.25) < 0.005
