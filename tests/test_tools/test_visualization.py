"""tools/visualization/vis_attention.py renders real pictures."""
import subprocess

import mmcv
import numpy as np
import torch
from mmengine.config import Config

from mmcakd.datasets import FashionMNISTSplit
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules

from ..conftest import PYTHON, ROOT, run_tool

CAKD = 'configs/cakd/cakd-paper_vit-tiny_resnet-tiny_fashion-mnist.py'
TOOL = 'tools/visualization/vis_attention.py'


def test_vis_attention_renders_pngs(tmp_path, data_root):
    register_all_modules()
    cfg = Config.fromfile(f'{ROOT}/{CAKD}')
    model = MODELS.build(model_config(cfg))  # the committed teacher, a fresh student
    ckpt = tmp_path / 'distiller.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    image = FashionMNISTSplit(data_root, split='test',
                              pipeline=[]).get_data_info(0)['img']
    path = tmp_path / 'shoe.png'
    mmcv.imwrite(np.ascontiguousarray(image), str(path))

    out = tmp_path / 'vis'
    run_tool([PYTHON, TOOL, CAKD, str(ckpt), str(path), '--out', str(out),
              '--query', '2', '5'])
    for name in ('attention.png', 'similarity.png'):
        picture = mmcv.imread(str(out / name))
        assert picture is not None and picture.shape[0] > 200
        # Not a blank canvas: the overlay has many colours.
        assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 50


def bad(args):
    proc = subprocess.run([PYTHON, TOOL, *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    return lines[-1]


def test_vis_attention_bad_inputs(tmp_path):
    text = tmp_path / 'notes.txt'
    text.write_text('not an image')
    msg = bad([CAKD, 'x.pth', str(text), '--out', str(tmp_path)])
    assert str(text) in msg and 'image' in msg
    student = 'configs/students/resnet-tiny_fashion-mnist.py'
    png = tmp_path / 'a.png'
    mmcv.imwrite(np.zeros((28, 28), np.uint8), str(png))
    msg = bad([student, 'x.pth', str(png), '--out', str(tmp_path)])
    assert student in msg and 'teacher' in msg
