"""PartiallyLabelledDataset: few labels, many images, on any dataset."""
import numpy as np
import pytest
from mmengine.config import Config
from mmpretrain.structures import DataSample
from PIL import Image

from mmcakd.datasets import PartiallyLabelledDataset, unlabelled_count
from mmcakd.models.losses import UNLABELLED
from mmcakd.registry import DATASETS, MODELS
from mmcakd.utils import model_config, register_all_modules
from mmcakd.utils.preflight import check_before_training

register_all_modules()
PIPE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def fmnist(data_root, **kwargs):
    return dict(type='FashionMNISTSplit', data_root=data_root,
                split='train', pipeline=[dict(type='PackInputs')], **kwargs)


def labels(dataset):
    return np.array([int(dataset[i]['data_samples'].gt_label)
                     for i in range(len(dataset))])


def test_marks_all_but_a_balanced_fraction(data_root):
    inner = DATASETS.build(fmnist(data_root, fraction=0.02))  # 1,100
    data = PartiallyLabelledDataset(inner, labelled_fraction=0.1, seed=3)
    got = labels(data)
    true = np.array([int(inner.get_data_info(i)['gt_label'])
                     for i in range(len(inner))])
    kept = got != UNLABELLED
    assert len(data) == len(inner) and kept.sum() == data.num_labelled == 110
    assert np.bincount(got[kept]).tolist() == [11] * 10
    assert (got[kept] == true[kept]).all()
    assert data.num_unlabelled == unlabelled_count(data) == 990
    # get_data_info agrees with what the pipeline produces.
    assert all(int(data.get_data_info(i)['gt_label']) == got[i]
               for i in range(0, len(data), 37))
    # The choice depends on the seed; a smaller fraction is a subset.
    other = PartiallyLabelledDataset(inner, labelled_fraction=0.1, seed=4)
    assert set(other.labelled) != set(data.labelled)
    small = PartiallyLabelledDataset(inner, labelled_fraction=0.05, seed=3)
    assert set(small.labelled) <= set(data.labelled)


def test_replace_cycles_the_labelled_samples(data_root):
    inner = DATASETS.build(fmnist(data_root, fraction=0.02))
    mark = PartiallyLabelledDataset(inner, 0.1, seed=3)
    data = PartiallyLabelledDataset(inner, 0.1, seed=3, unlabelled='replace')
    assert len(data) == len(inner) and data.num_unlabelled == 0
    got = labels(data)
    assert (got != UNLABELLED).all()
    # Sample i is labelled sample i mod 110: each is seen 10 times.
    images = [data[i]['inputs'] for i in (0, 110, 220)]
    assert all((im == images[0]).all() for im in images)
    assert np.bincount(got).tolist() == [110] * 10
    assert (got[:110] == labels(mark)[mark.labelled]).all()


def test_an_unlabelled_image_folder_concatenated(tmp_path):
    for name in ('a', 'b'):
        (tmp_path / 'labelled' / name).mkdir(parents=True)
    (tmp_path / 'flat').mkdir()
    for i in range(3):
        image = Image.fromarray(np.full((8, 8), 40 * i, np.uint8))
        image.save(tmp_path / 'labelled' / 'a' / f'{i}.png')
        image.save(tmp_path / 'labelled' / 'b' / f'{i}.png')
        image.save(tmp_path / 'flat' / f'{i}.png')
    data = DATASETS.build(dict(
        type='PartiallyLabelledDataset', labelled_fraction=1.0,
        dataset=dict(
            type='ConcatDataset', ignore_keys=['classes'],
            datasets=[
                dict(type='CustomDataset',
                     data_root=str(tmp_path / 'labelled'), pipeline=PIPE),
                dict(type='CustomDataset', data_root=str(tmp_path / 'flat'),
                     with_label=False, pipeline=PIPE)
            ])))
    assert labels(data).tolist() == [0, 0, 0, 1, 1, 1] + [UNLABELLED] * 3
    assert data.num_labelled == 6 and data.num_unlabelled == 3


@pytest.mark.parametrize('fraction', [0, -0.1, 1.5, '0.1', True])
def test_bad_fraction(data_root, fraction):
    with pytest.raises(ValueError, match='labelled_fraction=.* must be in'):
        PartiallyLabelledDataset(fmnist(data_root), fraction)


def test_bad_mode(data_root):
    with pytest.raises(ValueError, match="unlabelled='drop' must be one"):
        PartiallyLabelledDataset(fmnist(data_root), 0.1, unlabelled='drop')


def test_the_student_alone_is_refused_unlabelled_images():
    cfg = Config.fromfile('configs/students/resnet-small_fashion-mnist-1pct.py')
    cfg.train_dataloader.dataset.unlabelled = 'mark'
    with pytest.raises(ValueError, match="54450 samples are unlabelled, "
                       "and ImageClassifier has no teacher.*'replace'"):
        check_before_training(cfg)
    # Its own config (the labelled samples, cycled) passes.
    cfg.train_dataloader.dataset.unlabelled = 'replace'
    check_before_training(cfg)
    assert not hasattr(MODELS.build(model_config(cfg)), 'teacher')


def test_a_dropped_sample_is_replaced_by_one_of_its_kind(data_root):
    """A pipeline that drops a sample (mmengine then takes another one)
    never brings an unlabelled sample's true label in."""

    class DropLabelled:
        """Drops every sample that keeps its label except the first."""

        def __init__(self, keep):
            self.keep = keep

        def __call__(self, info):
            if info['sample_idx'] in self.keep:
                return dict(data_samples=DataSample().set_gt_label(
                    info['gt_label']), index=info['sample_idx'])
            return None

    inner = DATASETS.build(fmnist(data_root, fraction=0.02))
    data = PartiallyLabelledDataset(inner, 0.1, seed=3)
    first = int(data.labelled[0])
    unlabelled = np.flatnonzero(~data.is_labelled)
    inner.pipeline = DropLabelled({first, *unlabelled[:5].tolist()})
    # Every labelled sample but `first` is dropped: its replacement must be
    # `first` (labelled), never one of the loadable unlabelled ones.
    for index in data.labelled[1:6]:
        out = data[int(index)]
        assert out['index'] == first
        assert int(out['data_samples'].gt_label) != UNLABELLED


def test_unlabelled_samples_with_mixup_are_refused():
    cfg = Config.fromfile(
        'configs/kd/kd_vit-tiny_resnet-small_fashion-mnist-1pct.py')
    cfg.model.data_preprocessor = dict(
        num_classes=10, mean=[72.94], std=[90.02],
        batch_augments=dict(augments=[dict(type='Mixup', alpha=0.8)]))
    with pytest.raises(ValueError, match='batch_augments: mixup/cutmix mix '
                       'labels, and 54450 samples'):
        check_before_training(cfg)
