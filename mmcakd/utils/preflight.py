"""Checks that run before the runner writes anything into the work_dir, and
the runner built from what they built."""
import random
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import sync_random_seed
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, set_random_seed
from torch import nn

from .resume import check_resume_fits, resolve_start_checkpoint
from .runner_fields import check_runner_fields

# Errors that mean "the config or a file named in it is wrong": reported in
# one line by the tools, without a traceback.
USER_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError,
               FileExistsError, IsADirectoryError)
CHECKED_LOADERS = ('train_dataloader', 'val_dataloader')
# Runner.from_cfg's arguments that default to None.
RUNNER_FIELDS = ('train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
                 'optim_wrapper', 'param_scheduler', 'val_evaluator',
                 'test_evaluator', 'default_hooks', 'custom_hooks',
                 'data_preprocessor', 'load_from', 'log_processor',
                 'visualizer', 'experiment_name')


@dataclass
class Prepared:
    """What the checks built, for the runner to use instead of building it
    again: the model, the datasets by dataloader name, and the random
    state right after the model was built (seeded as the runner seeds)."""
    model: nn.Module
    datasets: Dict[str, object] = field(default_factory=dict)
    random_state: tuple = ()


def check_before_training(cfg: Config) -> Prepared:
    """Fail early on what mmengine would only notice later; build the model
    and datasets once.

    mmengine's Runner creates a log folder in the work_dir and prints the
    whole config before it builds the model, copies the config into the
    work_dir, and opens the datasets and the checkpoint to resume from only
    when training starts. Here the values the runner reads (batch sizes,
    schedule, optimizers, schedulers), the checkpoint to start from, the
    datasets and the model (teacher checkpoint, shapes, options) are
    checked first, so a bad value ends the run in one line with the
    work_dir untouched. The model is built after seeding exactly as the
    runner seeds, so :func:`build_runner` can hand it, and the datasets, to
    the runner: the file lists are scanned and the teacher's weights read
    once.
    """
    from mmcakd.registry import DATASETS
    check_runner_fields(cfg)
    checkpoint = resolve_start_checkpoint(cfg)
    prepared = build_seeded_model(cfg)
    model = prepared.model
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or 'mmcakd'):
        for loader in CHECKED_LOADERS:
            dataset = (cfg.get(loader) or {}).get('dataset')
            if isinstance(dataset, dict):
                try:
                    prepared.datasets[loader] = DATASETS.build(dataset)
                except USER_ERRORS as err:
                    raise type(err)(f'{loader}.dataset: {err}') from None
    check_classes(model, prepared.datasets)
    from mmcakd.datasets import unlabelled_count
    check_unlabelled(
        unlabelled_count(prepared.datasets.get('train_dataloader')), model,
        cfg)
    check_resume_fits(checkpoint, model, cfg)
    check_teacher_weights(cfg)
    return prepared


def build_checked_model(cfg: Config, checkpoint, source: str) -> Prepared:
    """tools/test.py: the model built once, seeded as the runner seeds, and
    ``checkpoint`` (read from ``source``) checked to load into it as
    mmengine will load it, strictly (mmengine loads non-strictly, so
    another model's weights would be evaluated with part of the model
    random), but for BN batch counters, which mmengine does not miss."""
    from mmcakd.models.utils import as_loaded, check_fits
    prepared = build_seeded_model(cfg)
    model = prepared.model
    check_fits(model, as_loaded(model, checkpoint), f'checkpoint {source!r}',
               'test it with the config it was trained with (a student '
               'from extract_student.py with the student\'s own config)',
               optional=('num_batches_tracked', ))
    return prepared


def build_seeded_model(cfg: Config) -> Prepared:
    """The config's model, built after seeding exactly as the runner seeds,
    with the random state right after it (for :func:`build_runner`)."""
    from mmcakd.registry import MODELS
    from .launch import model_config
    seed_as_the_runner(cfg)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or 'mmcakd'):
        model = MODELS.build(model_config(cfg))
    return Prepared(model, random_state=_random_state())


def predicted_classes(model: nn.Module) -> Optional[int]:
    """How many classes the model's classifier (a distiller's or the views
    wrapper's ``student``) predicts: its mmpretrain head's ``num_classes``,
    or a timm model's; None where neither says."""
    classifier = getattr(model, 'student', model)
    for owner in (getattr(classifier, 'head', None),
                  getattr(classifier, 'model', None)):
        classes = getattr(owner, 'num_classes', None)
        if isinstance(classes, int):
            return classes
    return None


def check_classes(model: nn.Module, datasets: Dict[str, object]) -> None:
    """A dataset with more classes than the model predicts would fail in
    the middle of the first epoch (a label past the logits); a different
    count means the head was not set for this data either."""
    predicted = predicted_classes(model)
    if predicted is None:
        return
    for loader, dataset in datasets.items():
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        if classes and len(classes) != predicted:
            names = ', '.join(map(str, classes[:3]))
            raise ValueError(
                f'{loader}.dataset has {len(classes)} classes ({names}, ...) '
                f'and the model predicts {predicted}: set the head\'s '
                f'num_classes to {len(classes)} (the student\'s, and the '
                'teacher\'s where logits are distilled; docs/own_data.md)')


def check_teacher_weights(cfg: Config) -> None:
    """A distiller's teacher must get trained weights: ``model.teacher_ckpt``
    (a path or URL) or a teacher that loads its own (timm's
    ``pretrained=True`` through ``TimmClassifier``). A random teacher only
    when the config says so: ``allow_random_teacher = True``."""
    model = cfg.model
    if 'teacher' not in model or model.get('teacher_ckpt') is not None \
            or cfg.get('allow_random_teacher'):
        return
    teacher = model.teacher
    if isinstance(teacher, dict) and teacher.get('pretrained'):
        return
    raise ValueError(
        'model.teacher_ckpt is None and the teacher loads no weights of its '
        'own, so it would teach from random weights (a teacher\'s init_cfg '
        'is not applied); give model.teacher_ckpt (a path or URL), or set '
        'allow_random_teacher = True in the config if that is meant')


def seed_as_the_runner(cfg: Config) -> None:
    """Seed the random streams as mmengine's Runner will (it builds the model
    right after), fixing ``randomness.seed`` first when the config leaves it
    to chance (drawn once and shared by the ranks, as the runner does), so
    that the runner logs and reuses the seed the model was built with."""
    randomness = dict(cfg.get('randomness') or {})
    if randomness.get('seed') is None:
        randomness['seed'] = sync_random_seed()
        cfg.randomness = randomness
    set_random_seed(**randomness)


def _random_state() -> tuple:
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def build_runner(cfg: Config, prepared: Prepared) -> Runner:
    """mmengine's ``Runner.from_cfg(cfg)``, given the model and datasets that
    :func:`check_before_training` built (the dataloaders get the built
    datasets; ``cfg`` itself stays plain data, for the config dump).

    The runner seeds again in its constructor; the random state after the
    model was built is put back after it, so training draws the numbers it
    would have drawn had the runner built the model itself.
    """
    loaders = {}
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if name in prepared.datasets:
            loader = dict(loader, dataset=prepared.datasets[name])
        loaders[name] = loader
    runner = Runner(
        model=prepared.model,
        work_dir=cfg['work_dir'],
        **loaders,
        **{key: cfg.get(key) for key in RUNNER_FIELDS},
        resume=cfg.get('resume', False),
        launcher=cfg.get('launcher', 'none'),
        env_cfg=cfg.get('env_cfg', dict(dist_cfg=dict(backend='nccl'))),
        log_level=cfg.get('log_level', 'INFO'),
        default_scope=cfg.get('default_scope', 'mmengine'),
        randomness=cfg.get('randomness', dict(seed=None)),
        cfg=cfg)
    python, numpy, torch_state = prepared.random_state
    random.setstate(python)
    np.random.set_state(numpy)
    torch.set_rng_state(torch_state)
    return runner


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
