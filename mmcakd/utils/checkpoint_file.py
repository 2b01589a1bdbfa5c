"""Read a checkpoint file safely (``weights_only=True``), with one-line
errors that name the file and what was expected."""
import os
import os.path as osp
import pickle
import sys
import zipfile
from urllib.parse import urlparse

import torch

ZIP_MAGIC = b'PK\x03\x04'
PICKLE_PROTO = b'\x80'


def fetch(url: str) -> str:
    """The local copy of ``url`` in torch's hub cache (``$TORCH_HOME``),
    downloaded once, with a progress bar on stderr.

    In a multi-process run, the first process of each machine (local rank
    0) downloads while the others wait at a barrier, then all read the same
    file; torch writes it under a temporary name and renames it when whole.
    """
    from mmengine.dist import barrier, get_world_size
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, osp.basename(urlparse(url).path))
    error = None
    # torchrun (and tools/train.py for Slurm) set LOCAL_RANK.
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    if local_rank == 0 and not osp.isfile(path):
        print(f'Downloading {url} to {path}', file=sys.stderr)
        try:
            torch.hub.download_url_to_file(url, path, progress=True)
        except OSError as err:  # raised after the barrier: nobody waits
            error = err
    if get_world_size() > 1:
        barrier()
    if error is not None:
        raise error
    if not osp.isfile(path):
        raise OSError('the download by the first process of this machine '
                      'failed')
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
    try:
        path = fetch(source) if '://' in source else source
    except OSError as err:
        raise ValueError(f'{field}={source!r} could not be downloaded '
                         f'({err}); check the URL and the network, or give '
                         'a local file') from None
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{field}={source!r} is a directory, not a checkpoint file: give '
            'the .pth file inside it')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{field}={source!r} does not exist: check the path')
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
