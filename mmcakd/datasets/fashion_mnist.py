"""Fashion-MNIST with a held-apart validation split and low-data subsets."""
import os.path as osp
import warnings
from typing import List

import numpy as np
from mmpretrain.datasets import FashionMNIST

from mmcakd.registry import DATASETS

PREPARE_HINT = ('install the data with `apt-get install -y '
                'dataset-fashion-mnist`, then run `python '
                'tools/dataset_converters/prepare_fashion_mnist.py`')


def balanced_split(labels: np.ndarray, val_per_class: int, fraction: float,
                   seed: int) -> dict:
    """Cut training indices into a validation split and a training subset.

    Both are class-balanced and depend only on ``labels`` and ``seed``: per
    class, one seeded permutation gives the first ``val_per_class`` indices to
    validation and the first ``round(fraction * rest)`` of the others to the
    training subset. A smaller fraction therefore always yields a subset of a
    larger one.

    Returns:
        dict with sorted int64 index arrays ``'train'`` and ``'val'``.
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        if val_per_class >= len(idx):
            raise ValueError(
                f'val_per_class={val_per_class} leaves no training image of '
                f'class {cls} ({len(idx)} images); lower val_per_class')
        val.append(idx[:val_per_class])
        rest = idx[val_per_class:]
        train.append(rest[:max(1, int(round(fraction * len(rest))))])
    return dict(
        train=np.sort(np.concatenate(train)), val=np.sort(np.concatenate(val)))


@DATASETS.register_module()
class FashionMNISTSplit(FashionMNIST):
    """Fashion-MNIST read from local IDX files, with three honest splits.

    - ``split='train'``: the official training images minus the validation
      split; with ``fraction < 1`` a fixed class-balanced subset of them
      (``fraction=0.1`` -> 5,500 images with the default validation size).
    - ``split='val'``: ``val_per_class`` training images per class, held apart
      so that hyper-parameters are never chosen on the test set.
    - ``split='test'``: the 10,000 official test images. (mmpretrain's own
      ``FashionMNIST`` selects its test files by ``test_mode`` and silently
      returns the training set for ``split='test'``; here the split decides.)

    Args:
        data_root (str): Folder with the four un-gzipped IDX files, as written
            by ``tools/dataset_converters/prepare_fashion_mnist.py``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        fraction (float): Fraction in (0, 1] of the training pool kept for
            ``split='train'``.
        val_per_class (int): Validation images per class (0 disables it).
        seed (int): Seed of the split and of the subset.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 fraction: float = 1.0,
                 val_per_class: int = 500,
                 seed: int = 0,
                 **kwargs) -> None:
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"FashionMNISTSplit: split='{split}' is not one "
                             "of 'train', 'val', 'test'")
        if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
            raise ValueError(
                f'FashionMNISTSplit: fraction={fraction!r} must be in (0, 1] '
                '(e.g. fraction=0.1 keeps 10% of the training images)')
        if val_per_class < 0:
            raise ValueError(f'FashionMNISTSplit: val_per_class='
                             f'{val_per_class} must be >= 0')
        self.subset = split
        self.fraction = float(fraction)
        self.val_per_class = int(val_per_class)
        self.seed = int(seed)
        kwargs.pop('test_mode', None)
        super().__init__(
            data_root=data_root,
            split='test' if split == 'test' else 'train',
            test_mode=split == 'test',
            download=False,
            **kwargs)

    def _check_exists(self) -> bool:
        root = self.data_prefix['root']
        missing = [
            name[:-3] for name, _ in self.train_list + self.test_list
            if not osp.isfile(osp.join(root, name[:-3]))
        ]
        if missing:
            raise FileNotFoundError(
                f'Fashion-MNIST is not prepared in {root!r} (missing '
                f'{missing[0]}): {PREPARE_HINT}')
        return True

    def load_data_list(self) -> List[dict]:
        with warnings.catch_warnings():
            # mmpretrain's reader makes tensors of the read-only file bytes
            # and copies them at once; torch warns about the read-only view.
            warnings.filterwarnings(
                'ignore', message='The given NumPy array is not writable',
                category=UserWarning)
            data_list = super().load_data_list()
        if self.subset == 'test':
            return data_list
        labels = np.array([int(info['gt_label']) for info in data_list])
        index = balanced_split(labels, self.val_per_class, self.fraction,
                               self.seed)[self.subset]
        return [data_list[i] for i in index]

    def extra_repr(self) -> List[str]:
        return super().extra_repr() + [
            f'Split: \t{self.subset}', f'Fraction: \t{self.fraction}',
            f'Seed: \t{self.seed}'
        ]
