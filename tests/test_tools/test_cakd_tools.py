"""CAKD through tools/train.py, --resume, tools/test.py and DDP (gloo)."""
import glob
import json

import os.path as osp
import subprocess

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.apis import ImageClassificationInferencer

from mmcakd.datasets import FashionMNISTSplit
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules

from ..conftest import PYTHON, ROOT, free_port, run_tool
from .test_train_test import STUDENT, TINY

CAKD = 'configs/cakd/cakd-paper_vit-tiny_resnet-tiny_fashion-mnist.py'


def test_cakd_trains_resumes_and_tests(tmp_path, data_root):
    work_dir = tmp_path / 'cakd'
    args = [PYTHON, 'tools/train.py', CAKD, '--work-dir', str(work_dir)]
    run_tool(args + ['--cfg-options', 'train_cfg.max_epochs=1', *TINY,
                     'model.mrt.d_interval=2'])
    first = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    assert int(first['state_dict']['num_steps']) == 2
    assert set(first['optimizer']) == {'student', 'discriminator'}
    assert not any(k.startswith('teacher.') for k in first['optimizer'])
    log, = glob.glob(str(work_dir / '*' / '*.log'))
    text = open(log).read()
    for name in ('loss_cls', 'loss_pca', 'loss_gl', 'loss_adv', 'loss_disc'):
        assert name in text

    proc = run_tool(args + ['--resume', '--cfg-options',
                            'train_cfg.max_epochs=2', *TINY,
                            'model.mrt.d_interval=2'])
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr
    second = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert int(second['state_dict']['num_steps']) == 4

    test_dir = tmp_path / 'test'
    run_tool([PYTHON, 'tools/test.py', CAKD, str(work_dir / 'epoch_2.pth'),
              '--work-dir', str(test_dir), '--eval-teacher', '--cfg-options',
              'test_dataloader.num_workers=0'])
    metrics_file, = glob.glob(str(test_dir / '*' / 'metrics.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    # The committed teacher is far better than a 4-step student.
    assert metrics['teacher/accuracy/top1'] > 80
    assert metrics['accuracy/top1'] < metrics['teacher/accuracy/top1']

    check_extracted_student(tmp_path, work_dir / 'epoch_2.pth', data_root)


def check_extracted_student(tmp_path, checkpoint, data_root):
    """The student alone, as a plain mmpretrain checkpoint, predicts exactly
    as the distiller's student does."""
    out = tmp_path / 'student.pth'
    run_tool([PYTHON, 'tools/model_converters/extract_student.py',
              str(checkpoint), str(out), '--config', STUDENT])
    plain = torch.load(out, weights_only=True)
    assert all(not k.startswith(('teacher', 'pca', 'gl', 'discriminator',
                                 'student.')) for k in plain['state_dict'])
    assert 'optimizer' not in plain and 'dataset_meta' in plain['meta']

    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, CAKD))
    distiller = MODELS.build(model_config(cfg)).eval()
    load_checkpoint(distiller, str(checkpoint), map_location='cpu',
                    strict=True)
    images = [FashionMNISTSplit(data_root, split='test',
                                pipeline=[]).get_data_info(i)['img']
              for i in range(8)]
    inferencer = ImageClassificationInferencer(
        osp.join(ROOT, STUDENT), pretrained=str(out), device='cpu')
    scores = torch.stack([
        torch.as_tensor(r['pred_scores']) for r in inferencer(images)])
    batch = distiller.data_preprocessor(
        dict(inputs=[torch.from_numpy(i.copy())[None] for i in images]),
        False)['inputs']
    with torch.no_grad():
        expected = distiller.student(batch, mode='tensor').softmax(1)
    torch.testing.assert_close(scores, expected, rtol=1e-5, atol=1e-6)

    run_tool([PYTHON, 'tools/test.py', STUDENT, str(out), '--work-dir',
              str(tmp_path / 'student_test'), '--cfg-options',
              'test_dataloader.num_workers=0'])


def test_extract_student_refuses_other_checkpoints(tmp_path):
    plain = tmp_path / 'plain.pth'
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)}}, plain)
    for path in (plain, tmp_path / 'missing.pth'):
        proc = subprocess.run(
            [PYTHON, 'tools/model_converters/extract_student.py', str(path),
             str(tmp_path / 'out.pth')], cwd=ROOT, capture_output=True,
            text=True)
        assert proc.returncode == 1
        assert str(path) in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / 'out.pth').exists()


def test_cakd_ddp_two_processes_on_cpu(tmp_path, data_root):
    work_dir = tmp_path / 'ddp'
    run_tool(
        ['bash', 'tools/dist_train.sh', CAKD, '2', '--work-dir',
         str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1', *TINY,
         'train_dataloader.batch_size=55', 'model.mrt.d_interval=1'],
        env=dict(PYTHON=PYTHON, PORT=free_port()))
    log, = glob.glob(str(work_dir / '*' / '*.log'))
    text = open(log).read()
    assert 'Epoch(train) [1][2/2]' in text and 'loss_disc' in text
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    # Saved without DDP's `module.` prefixes, loadable by a single process.
    assert 'student.backbone.conv1.weight' in checkpoint['state_dict']
    assert 'gl.weight' in checkpoint['state_dict']


def test_each_loss_term_is_a_tensorboard_curve(tmp_path, data_root):
    config = tmp_path / 'tensorboard.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, CAKD)}'\n"
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')])\n")
    work_dir = tmp_path / 'tb'
    run_tool([PYTHON, 'tools/train.py', str(config), '--work-dir',
              str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
              *TINY, 'model.mrt.d_interval=1',
              'default_hooks.logger.interval=1'])
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    events, = glob.glob(str(work_dir / '*' / 'vis_data' / 'events*'))
    curves = EventAccumulator(events)
    curves.Reload()
    assert {'loss_cls', 'loss_pca', 'loss_gl', 'loss_adv', 'loss_disc',
            'accuracy/top1'} <= set(curves.Tags()['scalars'])
