"""Load third-party weights safely (weights_only=True), with clear errors."""
import re
from typing import Tuple

import torch
from torch import nn

from mmcakd.utils.checkpoint_file import load_checkpoint_file


def read_state_dict(source: str, field: str) -> dict:
    """The state dict in a local file or URL (:func:`load_checkpoint_file`).

    ``state_dict`` / ``model`` wrappers (mmengine, timm, DeiT) are unwrapped.
    """
    checkpoint = load_checkpoint_file(source, field)
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(
            torch.is_tensor(v) for v in checkpoint.values()):
        raise ValueError(f'{field}={source!r} holds no state dict of tensors')
    return checkpoint


def as_loaded(model: nn.Module, checkpoint) -> dict:
    """The state dict that mmengine's checkpoint loader puts into ``model``:
    the checkpoint's ``state_dict`` (or the checkpoint itself), a DDP
    ``module.`` prefix stripped, and a distiller's former attribute names
    renamed by its own ``rename_legacy_keys`` (its load hook does the same
    when the weights are loaded)."""
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state, dict):
        return {}
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    rename = getattr(model, 'rename_legacy_keys', None)
    if rename is not None:
        rename(state, '')
    return state


def describe_mismatch(own: dict, state: dict,
                      optional: Tuple[str, ...] = ()) -> str:
    """What keeps ``state`` from loading strictly into a model whose state
    dict is ``own``: shape mismatches, missing and unexpected keys, each
    with an example; ``''`` when every key and shape matches. Missing keys
    ending with one of ``optional`` do not count."""
    missing = sorted(k for k in set(own) - set(state)
                     if not k.endswith(optional))
    unexpected = sorted(set(state) - set(own))
    # A module's extra state (get_extra_state, e.g. a random generator's
    # state) has no fixed shape: set_extra_state takes what was saved.
    wrong = sorted(k for k in set(own) & set(state)
                   if not k.endswith('_extra_state')
                   and own[k].shape != state[k].shape)
    parts = []
    if wrong:
        k = wrong[0]
        parts.append(f'{len(wrong)} shape mismatches (e.g. {k}: '
                     f'{tuple(state[k].shape)} in file, '
                     f'{tuple(own[k].shape)} in model)')
    if missing:
        parts.append(f'{len(missing)} missing keys (e.g. {missing[0]})')
    if unexpected:
        parts.append(
            f'{len(unexpected)} unexpected keys (e.g. {unexpected[0]})')
    return '; '.join(parts)


def check_fits(model: nn.Module, state: dict, source: str, fix: str,
               optional: Tuple[str, ...] = ()) -> None:
    """``state`` (read from ``source``, named as the error should name it)
    must load strictly into ``model`` (but for missing keys ending with one
    of ``optional``); else a ValueError with ``fix``."""
    mismatch = describe_mismatch(model.state_dict(), state, optional)
    if mismatch:
        raise ValueError(f'{source} does not fit the configured model: '
                         f'{mismatch}; {fix}')


def load_weights(model: nn.Module, source: str, field: str) -> None:
    """Load ``source`` into ``model``; every key and shape must match."""
    state = read_state_dict(source, field)
    check_fits(model, state, f'{field}={source!r}',
               'check that the config describes the architecture these '
               'weights were trained with')
    model.load_state_dict(state, strict=True)
