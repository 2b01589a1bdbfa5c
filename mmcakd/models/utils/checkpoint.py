"""Load third-party weights safely (weights_only=True), with clear errors."""
import os
import os.path as osp
import pickle
import zipfile
from urllib.parse import urlparse

import torch
from torch import nn

ZIP_MAGIC = b'PK\x03\x04'
PICKLE_PROTO = b'\x80'


def _fetch(url: str) -> str:
    """Download ``url`` once into torch's hub cache; return the local path."""
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, osp.basename(urlparse(url).path))
    if not osp.isfile(path):
        torch.hub.download_url_to_file(url, path, progress=False)
    return path


def _looks_like(path: str) -> str:
    """What a file that is not a torch checkpoint seems to be, from its first
    bytes (for the error message)."""
    with open(path, 'rb') as f:
        head = f.read(64)
    try:
        head.decode('utf-8')
        return 'a text file'
    except UnicodeDecodeError:
        return f'a file of another format (it starts with {head[:8]!r})'


def load_checkpoint_file(source: str, field: str):
    """The object saved in a local file or URL, read with torch's safe loader
    (``weights_only=True``); a missing, empty, truncated, foreign or unsafe
    file is a one-line error naming ``field`` and the file.

    A checkpoint whose unpickling would call anything but torch's tensor
    rebuilders (code execution) is refused by torch's restricted unpickler.
    """
    path = _fetch(source) if '://' in source else source
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{field}={source!r} is a directory, not a checkpoint file: give '
            'the .pth file inside it')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{field}={source!r} does not exist: give the path or URL of the '
            'model\'s weights')
    if osp.getsize(path) == 0:
        raise ValueError(f'{field}={source!r} is empty (0 bytes), not a '
                         'checkpoint: save or download it again')
    with open(path, 'rb') as f:
        magic = f.read(4)
    # torch.save writes a zip archive (torch >= 1.6) or a pickle.
    if magic != ZIP_MAGIC and magic[:1] != PICKLE_PROTO:
        raise ValueError(
            f'{field}={source!r} is {_looks_like(path)}, not a torch '
            'checkpoint: give a .pth file written by torch.save')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        lines = str(e).strip().splitlines() or ['']
        raise ValueError(
            f'{field}={source!r} is refused by the safe loader '
            f'(weights_only=True): it holds more than tensors and plain data '
            f'({lines[-1][:200]}); export a plain state dict instead') from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError,
            ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValueError(
            f'{field}={source!r} is not a readable checkpoint (truncated or '
            f'corrupt: {first[:120]}); download or save it again') from None


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
