"""The model zoo: metafiles and READMEs agree with the benchmarks' results,
and a listed student loads in mmpretrain's ImageClassificationInferencer
with its own config and scores what the benchmark measured."""
import json
import os
import os.path as osp
import subprocess

import numpy as np
import pytest
import torch
import yaml
from mmengine.config import Config

from mmcakd.registry import MODELS
from mmcakd.utils import register_all_modules
from ..conftest import PYTHON, ROOT


def listed_models():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    for path in index['Import']:
        with open(osp.join(ROOT, path)) as f:
            yield from yaml.safe_load(f)['Models']


def test_model_zoo_files_are_up_to_date():
    out = subprocess.run([PYTHON, 'tools/benchmarks/model_zoo.py', '--check'],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_every_listed_file_exists_and_every_config_is_listed():
    models = list(listed_models())
    configs = {m['Config'] for m in models}
    for folder in ('cakd', 'kd', 'dkd', 'fitnet', 'rkd', 'ofa', 'students',
                   'teachers'):
        for name in sorted(os.listdir(osp.join(ROOT, 'configs', folder))):
            if name.endswith('.py'):
                assert f'configs/{folder}/{name}' in configs
    for model in models:
        for path in (model['Config'], model.get('Weights'),
                     model['Metadata'].get('Student Config')):
            assert path is None or osp.isfile(osp.join(ROOT, path)), path
    assert len({m['Name'] for m in models}) == len(models)


def with_weights():
    return [m for m in listed_models() if m.get('Weights')]


def test_students_with_weights_are_listed():
    assert len(with_weights()) >= 1


def recorded_test(weights):
    """The test top-1 recorded for these weights: the benchmark run's
    result.json beside a student, the record beside a teacher."""
    result = osp.join(osp.dirname(weights), 'result.json')
    record = osp.splitext(weights)[0] + '.json'
    with open(result if osp.isfile(result) else record) as f:
        return json.load(f)['test']


@pytest.mark.parametrize(
    'model', with_weights()[:1] + [
        m for m in with_weights() if m['In Collection'] == 'Teachers'],
    ids=lambda m: m['Name'])
def test_inferencer_loads_a_listed_student_and_scores_its_result(
        model, data_root):
    """The weights fit their config exactly, and their predictions on the
    10,000 test images reach the accuracy recorded for them (a student's
    benchmark row for seed 0, a teacher's record): same weights, same
    images, same normalisation."""
    from mmpretrain.apis import ImageClassificationInferencer

    from mmcakd.datasets import FashionMNISTSplit
    register_all_modules()
    config = model['Metadata'].get('Student Config', model['Config'])
    weights = osp.join(ROOT, model['Weights'])
    classifier = MODELS.build(Config.fromfile(osp.join(ROOT, config)).model)
    classifier.load_state_dict(
        torch.load(weights, weights_only=True)['state_dict'], strict=True)

    inferencer = ImageClassificationInferencer(
        model=osp.join(ROOT, config), pretrained=weights, device='cpu')
    test = FashionMNISTSplit(data_root=data_root, split='test', pipeline=[])
    images = [test.get_data_info(i)['img'] for i in range(len(test))]
    labels = np.array([int(test.get_data_info(i)['gt_label'])
                       for i in range(len(test))])
    preds = inferencer(images, batch_size=500)
    accuracy = 100 * np.mean(
        [p['pred_label'] == y for p, y in zip(preds, labels)])
    recorded = recorded_test(weights)
    assert abs(accuracy - recorded) < 0.02, (accuracy, recorded)
