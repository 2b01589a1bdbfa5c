"""Checks that run before the runner writes anything into the work_dir."""
import os.path as osp
import sys
from typing import Callable

from mmengine.config import Config
from mmengine.registry import DefaultScope

# Errors that mean "the config or a file named in it is wrong": reported in
# one line by the tools, without a traceback.
USER_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError,
               FileExistsError, IsADirectoryError)


def check_before_training(cfg: Config) -> None:
    """Fail early on what mmengine would only notice later.

    mmengine's Runner creates a log folder in the work_dir and prints the
    whole config before it builds the model, copies the config into the
    work_dir, and opens the datasets and the checkpoint to resume from only
    when training starts. Here the checkpoint path, the datasets and the
    model (teacher checkpoint, shapes, options) are checked first, so a bad
    value ends the run in one line with the work_dir untouched. The price is
    building the model and datasets twice (seconds, once per run).
    """
    from mmcakd.registry import DATASETS, MODELS
    from .launch import model_config
    for field in ('load_from', ):
        path = cfg.get(field)
        if isinstance(path, str) and '://' not in path \
                and not osp.isfile(path):
            option = '--resume' if cfg.get('resume') else field
            raise FileNotFoundError(
                f'{option}: checkpoint {path!r} does not exist; pass an '
                'existing .pth file (or --resume without a path to take the '
                "work_dir's latest)")
    from mmcakd.datasets import unlabelled_count
    built = {}
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or 'mmcakd'):
        for loader in ('train_dataloader', 'val_dataloader'):
            dataset = (cfg.get(loader) or {}).get('dataset')
            if isinstance(dataset, dict):
                try:
                    built[loader] = DATASETS.build(dataset)
                except USER_ERRORS as err:
                    raise type(err)(f'{loader}.dataset: {err}') from None
        model = MODELS.build(model_config(cfg))
    check_unlabelled(unlabelled_count(built.get('train_dataloader')), model,
                     cfg)


def check_unlabelled(unlabelled: int, model, cfg: Config) -> None:
    """Unlabelled training samples need a model that can learn from them:
    a distiller whose CE skips them, and no batch augment that needs every
    sample's label."""
    if not unlabelled:
        return
    from mmcakd.models.losses import LabelledOnlyLoss
    field = 'train_dataloader.dataset'
    if not hasattr(model, 'teacher'):
        raise ValueError(
            f'{field}: {unlabelled} samples are unlabelled, and '
            f'{type(model).__name__} has no teacher to learn from them; '
            "set the PartiallyLabelledDataset's unlabelled='replace' to "
            'train on the labelled samples only')
    head = getattr(model.student, 'head', None)
    if not isinstance(getattr(head, 'loss_module', None), LabelledOnlyLoss):
        raise ValueError(
            f'{field}: {unlabelled} samples are unlabelled, but the '
            "student head's loss takes no per-sample weight, so its CE "
            'cannot skip them; use a loss with `weight` (e.g. '
            'CrossEntropyLoss) or label every sample')
    augments = (cfg.model.get('data_preprocessor') or {}).get(
        'batch_augments')
    if augments:
        raise ValueError(
            f'model.data_preprocessor.batch_augments: mixup/cutmix mix '
            f'labels, and {unlabelled} samples of {field} have none; '
            'remove batch_augments or label every sample')


def exit_on_user_error(step: Callable, *args):
    """Run ``step``; a config error ends the program with one line."""
    try:
        return step(*args)
    except USER_ERRORS as err:
        message = str(err).strip().replace('\n', ' ')
        sys.exit(f'{type(err).__name__}: {message}')
