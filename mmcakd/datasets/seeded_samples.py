"""Augmentation that is a function of (seed, epoch, sample), not of workers.

mmcv/mmpretrain transforms draw from the global ``random``, ``numpy`` and
``torch`` generators of whichever process runs the pipeline. Their state
depends on the number of workers, on whether the workers persist across
epochs, and on when the process started, so a run resumed from a checkpoint
(or run with another worker count, or on two ranks instead of one) sees other
crops and flips than the run it continues. Here the sampler hands out
``(index, sample_seed)`` pairs and the dataset seeds the three generators
from ``sample_seed`` before the pipeline runs: every sample's augmentation is
fixed by ``(seed, epoch, index)`` alone.

:class:`~mmcakd.engine.ResumableEpochBasedTrainLoop` installs both around the
configured dataset and sampler; nothing has to be configured.
"""
import random
from typing import Iterator, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.dist import sync_random_seed
from torch.utils.data import Dataset, Sampler, get_worker_info

from mmcakd.registry import DATA_SAMPLERS, DATASETS


def sample_seed(seed: int, epoch: int, index: int, size: int) -> int:
    """A distinct 32-bit seed for every (epoch, index) of a run."""
    return (seed + epoch * size + index) % 2**32


@DATA_SAMPLERS.register_module()
class SeededSampler(Sampler):
    """Wraps any index sampler; yields ``(index, sample_seed)``.

    It also lets the train loop skip the samples of an epoch that were
    already trained before a resume (:meth:`skip_next`), without loading
    them.

    Args:
        dataset: The (wrapped) dataset, passed by mmengine.
        sampler (dict): The inner sampler's config, e.g.
            ``dict(type='DefaultSampler', shuffle=True)``.
        seed (int, optional): Base seed, passed by mmengine (the runner's
            ``randomness.seed``); synchronised across ranks when ``None``.
    """

    def __init__(self, dataset: Dataset, sampler: dict,
                 seed: Optional[int] = None) -> None:
        self.inner = DATA_SAMPLERS.build(
            sampler, default_args=dict(dataset=dataset, seed=seed))
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.size = len(dataset)
        self.epoch = 0
        self._skip = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.inner, 'set_epoch'):
            self.inner.set_epoch(epoch)

    def skip_next(self, num_samples: int) -> None:
        """Leave out the first ``num_samples`` of the next pass only."""
        self._skip = num_samples

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        skip, self._skip = self._skip, 0
        for i, index in enumerate(self.inner):
            if i >= skip:
                yield index, sample_seed(self.seed, self.epoch, index,
                                         self.size)

    def __len__(self) -> int:
        return len(self.inner)


@DATASETS.register_module()
class SeededSampleDataset(Dataset):
    """A dataset whose ``[(index, sample_seed)]`` seeds the pipeline first.

    In the main process (``num_workers=0``) the global generators are put
    back afterwards, so that dropout and the like in the model draw the same
    numbers as they would without data loading in between.

    Args:
        dataset (dict | Dataset): The dataset to wrap.
    """

    def __init__(self, dataset: Union[dict, Dataset]) -> None:
        self.dataset = (DATASETS.build(dataset) if isinstance(dataset, dict)
                        else dataset)

    @property
    def metainfo(self) -> dict:
        return getattr(self.dataset, 'metainfo', {})

    def full_init(self) -> None:
        if isinstance(self.dataset, BaseDataset):
            self.dataset.full_init()

    def get_data_info(self, index: int) -> dict:
        return self.dataset.get_data_info(index)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: Union[int, Tuple[int, int]]):
        if not isinstance(item, tuple):  # plain index: no seeding
            return self.dataset[item]
        index, seed = item
        in_main = get_worker_info() is None
        if in_main:
            saved = (random.getstate(), np.random.get_state(),
                     torch.get_rng_state())
        random.seed(seed)
        np.random.seed(seed)
        # CPU generator only: pipelines run on the CPU, and reseeding the
        # CUDA generators would disturb the model's.
        torch.default_generator.manual_seed(seed)
        try:
            return self.dataset[index]
        finally:
            if in_main:
                random.setstate(saved[0])
                np.random.set_state(saved[1])
                torch.set_rng_state(saved[2])
