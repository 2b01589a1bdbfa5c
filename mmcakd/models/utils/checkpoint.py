"""Load third-party weights safely (weights_only=True), with clear errors."""
import os
import os.path as osp
import pickle
import zipfile
from urllib.parse import urlparse

import torch
from torch import nn


def _fetch(url: str) -> str:
    """Download ``url`` once into torch's hub cache; return the local path."""
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, osp.basename(urlparse(url).path))
    if not osp.isfile(path):
        torch.hub.download_url_to_file(url, path, progress=False)
    return path


def read_state_dict(source: str, field: str) -> dict:
    """The state dict in a local file or URL, read with ``weights_only=True``.

    A checkpoint whose unpickling would call anything but torch's tensor
    rebuilders (code execution) is refused by torch's restricted unpickler.
    ``state_dict`` / ``model`` wrappers (mmengine, timm, DeiT) are unwrapped.
    """
    path = _fetch(source) if '://' in source else source
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{field}={source!r} does not exist: give the path or URL of the '
            'model\'s weights')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[-1][:200]
        raise ValueError(
            f'{field}={source!r} is refused by the safe loader '
            f'(weights_only=True): it holds more than tensors and plain data '
            f'({first}); export a plain state dict instead') from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as e:
        raise ValueError(
            f'{field}={source!r} is not a readable checkpoint (truncated or '
            f'corrupt: {str(e).splitlines()[0][:120]}); download or save it '
            'again') from None
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(
            torch.is_tensor(v) for v in checkpoint.values()):
        raise ValueError(f'{field}={source!r} holds no state dict of tensors')
    return checkpoint


def load_weights(model: nn.Module, source: str, field: str) -> None:
    """Load ``source`` into ``model``; every key and shape must match."""
    state = read_state_dict(source, field)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state)
                   if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
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
        raise ValueError(
            f'{field}={source!r} does not fit the configured model: '
            f'{"; ".join(parts)}; check that the config describes the '
            'architecture these weights were trained with')
    model.load_state_dict(state, strict=True)
