"""Two processes with batch b train the same CAKD model as one process with
batch 2b (issue 6, item 5): every trainable part is synchronised."""
import os.path as osp

import torch
from mmengine.config import Config

from ..conftest import PYTHON, ROOT, free_port, run_tool
from .test_cakd_tools import CAKD

STUDENT_MODEL = 'configs/_base_/models/resnet-tiny_gray.py'
B = 4


def config_without_random_parts(tmp_path) -> str:
    """The CAKD config with SyncBN in the student, no views, p = 0, no GL
    dropout and a discriminator step after every student step."""
    student = Config.fromfile(osp.join(ROOT, STUDENT_MODEL)).model.to_dict()
    student['backbone']['norm_cfg'] = dict(type='SyncBNAnyDevice')
    student['_delete_'] = True  # the base names the student by path
    path = tmp_path / 'cakd_sync.py'
    path.write_text(
        f"_base_ = '{osp.join(ROOT, CAKD)}'\n"
        f'model = dict(student={student!r}, projectors=dict('
        'pca=dict(p=0.0), gl=dict(dropout=0.0)), '
        'mrt=dict(views=None, d_interval=1))\n'
        # Plain order: shuffling differs between 1 and 2 ranks only in how
        # indices are dealt, but a fixed order makes the batches obvious.
        "train_dataloader = dict(sampler=dict(shuffle=False))\n")
    return str(path)


def options(batch_size):
    return [
        '--cfg-options', 'train_cfg.max_epochs=1',
        'train_dataloader.dataset.fraction=0.004',
        f'train_dataloader.batch_size={batch_size}',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'val_dataloader.dataset.val_per_class=5',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.checkpoint.max_keep_ckpts=20',
        'default_hooks.checkpoint.save_best=None'
    ]


def test_two_processes_equal_one_with_twice_the_batch(tmp_path, data_root):
    config = config_without_random_parts(tmp_path)
    one, two = tmp_path / 'one', tmp_path / 'two'
    run_tool([PYTHON, 'tools/train.py', config, '--work-dir', str(one),
              *options(2 * B)])
    run_tool(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
              str(two), *options(B)],
             env=dict(PYTHON=PYTHON, PORT=free_port()))
    a = torch.load(one / 'iter_3.pth', weights_only=True)['state_dict']
    b = torch.load(two / 'iter_3.pth', weights_only=True)['state_dict']
    assert set(a) == set(b)
    initial = torch.load(one / 'iter_3.pth', weights_only=True)
    assert initial['meta']['iter'] == 3
    trained = [k for k in a if not k.startswith('teacher.')]
    assert any(k.startswith('discriminator.') for k in trained)
    assert any(k.startswith(('pca.', 'gl.')) for k in trained)
    assert any(k.endswith('running_var') for k in trained)
    for key in trained:
        if a[key].is_floating_point():
            assert torch.allclose(a[key], b[key], rtol=1e-4, atol=1e-6), key
        else:
            assert torch.equal(a[key], b[key]), key
