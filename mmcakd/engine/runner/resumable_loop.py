"""An epoch-based train loop that resumes exactly, even mid-epoch."""
import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmcakd.datasets import SeededSampler
from mmcakd.registry import LOOPS


def _seeded(dataloader: dict) -> dict:
    """The dataloader config with the dataset and sampler wrapped so that
    each sample's augmentation depends on (seed, epoch, index) only."""
    dataloader = copy.deepcopy(dict(dataloader))
    dataloader['dataset'] = dict(
        type='SeededSampleDataset', dataset=dataloader['dataset'])
    dataloader['sampler'] = dict(
        type='SeededSampler', sampler=dataloader['sampler'])
    return dataloader


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop``, made to resume exactly.

    A run killed in the middle of an epoch and resumed from its last
    iteration checkpoint continues with the very batches, augmentations and
    random numbers of the uninterrupted run:

    - mmengine's loop restarts an interrupted epoch from its first batch
      (so samples are seen twice and the epoch has too many iterations);
      here the samples already trained are skipped in the sampler, without
      loading them;
    - each sample's augmentation is seeded from (seed, epoch, index)
      (:class:`~mmcakd.datasets.SeededSampler`), so it does not depend on
      the data workers' history;
    - the DataLoader draws its workers' base seed from a private generator
      instead of torch's global one, whose state
      :class:`~mmcakd.engine.RandomStateHook` saves and restores.

    Same arguments as ``EpochBasedTrainLoop``. In a config:
    ``train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=...)``
    (mmengine refuses ``by_epoch`` next to ``type``).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        if isinstance(dataloader, dict):
            dataloader = _seeded(dataloader)
        else:
            print_log('train_dataloader is a built DataLoader: samples are '
                      'not seeded and a mid-epoch resume is not exact',
                      logger='current', level='WARNING')
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        self.dataloader.generator = torch.Generator().manual_seed(
            runner.seed or 0)

    def run_epoch(self) -> None:
        """Iterate over the epoch's batches not yet trained."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._iter - self._epoch * len(self.dataloader)
        if done > 0:
            sampler = self.dataloader.batch_sampler.sampler
            if isinstance(sampler, SeededSampler):
                sampler.skip_next(done * self.dataloader.batch_sampler.
                                  batch_size)
                print_log(f'Resuming epoch {self._epoch + 1} after its '
                          f'first {done} iterations', logger='current')
            else:
                done = 0
        for idx, data_batch in enumerate(self.dataloader, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
