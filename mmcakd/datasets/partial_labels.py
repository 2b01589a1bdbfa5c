"""Few labels, many images: a dataset whose samples are partly unlabelled."""
from typing import List, Optional, Union

import numpy as np
from torch.utils.data import Dataset

from mmcakd.models.losses.labelled_only import UNLABELLED
from mmcakd.registry import DATASETS

MODES = ('mark', 'replace')


def labels_of(dataset: Dataset) -> np.ndarray:
    """(N, ) int64 labels of ``dataset``'s samples, ``UNLABELLED`` where a
    sample has none (e.g. mmpretrain's ``CustomDataset`` on a flat folder,
    ``with_label=False``)."""
    get = getattr(dataset, 'get_data_info', None)
    if get is None:
        raise TypeError(f'{type(dataset).__name__} has no get_data_info(): '
                        'wrap an mmengine/mmpretrain dataset')
    labels = [get(i).get('gt_label', UNLABELLED) for i in range(len(dataset))]
    return np.array([int(y) for y in labels], dtype=np.int64)


def balanced_choice(labels: np.ndarray, fraction: float,
                    seed: int) -> np.ndarray:
    """Sorted indices of ``max(1, round(fraction * n_c))`` labelled samples
    of every class c, drawn by one seeded permutation per class (a smaller
    fraction gives a subset of a larger one)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(labels[labels != UNLABELLED]):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        chosen.append(idx[:max(1, int(round(fraction * len(idx))))])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)


@DATASETS.register_module()
class PartiallyLabelledDataset:
    """Any dataset with all but a class-balanced fraction of its labels
    taken away: the case of few labels and many unlabelled images.

    A class-balanced ``labelled_fraction`` of the labelled samples, chosen
    by ``seed`` (not the training seed: every run of a benchmark gets the
    same labels), keeps its label. What happens to the others:

    - ``unlabelled='mark'`` (for distillers): their data sample's
      ``gt_label`` is set to ``UNLABELLED`` (-1). Every distiller leaves
      them out of the CE and uses them in every distillation term.
    - ``unlabelled='replace'`` (for the student alone, which cannot use
      them): the epoch keeps its length, and sample i is labelled sample
      ``i mod n_labelled``: the labelled samples are cycled, so the student
      alone trains on exactly the labelled samples, with as many steps per
      epoch as a distiller.

    Samples that have no label already (an image folder read by
    mmpretrain's ``CustomDataset`` with ``with_label=False``, concatenated
    to a labelled dataset with mmengine's ``ConcatDataset``) count as
    unlabelled; ``labelled_fraction=1`` keeps every label there is.

    Args:
        dataset (dict | Dataset): The dataset (config) to wrap.
        labelled_fraction (float): In (0, 1]: share of each class's
            labelled samples that keep their label.
        seed (int): Seed of the choice.
        unlabelled (str): ``'mark'`` or ``'replace'``.
    """

    def __init__(self,
                 dataset: Union[dict, Dataset],
                 labelled_fraction: float,
                 seed: int = 0,
                 unlabelled: str = 'mark') -> None:
        if isinstance(labelled_fraction, bool) or not isinstance(
                labelled_fraction, (int, float)) or not (
                    0 < labelled_fraction <= 1):
            raise ValueError(
                f'PartiallyLabelledDataset: labelled_fraction='
                f'{labelled_fraction!r} must be in (0, 1] (e.g. 0.01 keeps '
                '1% of the labels)')
        if unlabelled not in MODES:
            raise ValueError(f'PartiallyLabelledDataset: unlabelled='
                             f'{unlabelled!r} must be one of {MODES}')
        self.dataset = (DATASETS.build(dataset)
                        if isinstance(dataset, dict) else dataset)
        if hasattr(self.dataset, 'full_init'):  # a lazily built dataset
            self.dataset.full_init()
        self.labelled_fraction = float(labelled_fraction)
        self.seed = int(seed)
        self.mode = unlabelled
        labels = labels_of(self.dataset)
        self.labelled: np.ndarray = balanced_choice(
            labels, self.labelled_fraction, self.seed)
        if not len(self.labelled):
            raise ValueError('PartiallyLabelledDataset: the dataset has no '
                             'labelled sample to keep')
        self.is_labelled = np.zeros(len(labels), dtype=bool)
        self.is_labelled[self.labelled] = True

    @property
    def metainfo(self) -> dict:
        return getattr(self.dataset, 'metainfo', {})

    @property
    def num_labelled(self) -> int:
        return len(self.labelled)

    @property
    def num_unlabelled(self) -> int:
        """Samples a training run sees without a label (0 for 'replace')."""
        return 0 if self.mode == 'replace' else len(self) - len(
            self.labelled)

    def full_init(self) -> None:
        pass  # built in __init__: the labels were read there

    def _source(self, index: int) -> int:
        if self.mode == 'replace':
            return int(self.labelled[index % len(self.labelled)])
        return index

    def get_data_info(self, index: int) -> dict:
        source = self._source(index)
        info = self.dataset.get_data_info(source)
        if not self.is_labelled[source]:
            info['gt_label'] = UNLABELLED
        return info

    def __len__(self) -> int:
        return len(self.is_labelled)

    def __getitem__(self, index: int) -> dict:
        source = self._source(index)
        data, source = self._load(source)
        if not self.is_labelled[source]:
            data['data_samples'].set_gt_label(UNLABELLED)
        return data

    def _load(self, index: int, max_refetch: int = 1000):
        """``(sample, index it came from)``.

        mmengine's BaseDataset replaces a sample its pipeline drops (a
        broken image) by a random other one; that one could be unlabelled
        here while ``index`` is not, and bring its true label in. The same
        retry is done here instead, among samples of the same kind
        (labelled or not), so that the mark always fits the sample.
        """
        prepare = getattr(self.dataset, 'prepare_data', None)
        if prepare is None or getattr(self.dataset, 'test_mode', False):
            return self.dataset[index], index
        same = (self.labelled if self.is_labelled[index] else
                np.flatnonzero(~self.is_labelled))
        for _ in range(max_refetch):
            data = prepare(index)
            if data is not None:
                return data, index
            index = int(same[np.random.randint(len(same))])
        raise RuntimeError(f'{type(self.dataset).__name__}: no valid sample '
                           f'after {max_refetch} tries; check the images')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({len(self)} samples, '
                f'{self.num_labelled} labelled, unlabelled={self.mode!r}, '
                f'seed={self.seed}) of {self.dataset!r}')


def unlabelled_count(dataset: Optional[Dataset]) -> int:
    """Samples a run over ``dataset`` sees without a label, as far as the
    wrappers tell (``PartiallyLabelledDataset`` and mmengine's
    ``ConcatDataset`` / ``RepeatDataset`` around it)."""
    if dataset is None:
        return 0
    count = getattr(dataset, 'num_unlabelled', None)
    if isinstance(count, int):
        return count
    inner: List = list(getattr(dataset, 'datasets', []))
    if hasattr(dataset, 'dataset'):
        inner.append(dataset.dataset)
    return sum(unlabelled_count(d) for d in inner)
