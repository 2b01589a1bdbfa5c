"""Per-sample seeded augmentation and the sampler's skip (exact resume)."""
import random

import numpy as np
import torch
from mmengine.dataset import DefaultSampler, pseudo_collate
from torch.utils.data import DataLoader

from mmcakd.datasets import SeededSampleDataset, SeededSampler
from mmcakd.utils import register_all_modules

register_all_modules()

PIPELINE = [dict(type='RandomCrop', crop_size=28, padding=4),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs')]


def loader(data_root, workers, epoch=0, skip=0):
    dataset = SeededSampleDataset(dict(
        type='FashionMNISTSplit', data_root=data_root, split='val',
        val_per_class=4, pipeline=PIPELINE))
    sampler = SeededSampler(
        dataset, dict(type='DefaultSampler', shuffle=True), seed=3)
    sampler.set_epoch(epoch)
    sampler.skip_next(skip)
    return DataLoader(dataset, batch_size=8, sampler=sampler,
                      num_workers=workers, collate_fn=pseudo_collate,
                      generator=torch.Generator())  # as the train loop does


def images(dataloader):
    return torch.cat([torch.stack(b['inputs']) for b in dataloader])


def test_augmentation_does_not_depend_on_workers(data_root):
    a = images(loader(data_root, workers=0))
    assert torch.equal(a, images(loader(data_root, workers=2)))
    # Another epoch: other crops and flips of the same images.
    assert not torch.equal(a, images(loader(data_root, workers=0, epoch=1)))


def test_skip_leaves_out_the_first_samples_once(data_root):
    whole = images(loader(data_root, workers=0, epoch=2))
    dl = loader(data_root, workers=0, epoch=2, skip=16)
    assert torch.equal(images(dl), whole[16:])
    assert torch.equal(images(dl), whole)  # the next pass is whole again


def test_main_process_random_streams_are_left_alone(data_root):
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    images(loader(data_root, workers=0))
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]


def test_same_order_as_the_wrapped_sampler(data_root):
    dl = loader(data_root, workers=0, epoch=1)
    inner = DefaultSampler(dl.dataset, shuffle=True, seed=3)
    inner.set_epoch(1)
    assert [i for i, _ in dl.sampler] == list(inner)
