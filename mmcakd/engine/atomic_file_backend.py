"""A local file backend whose writes are atomic: a crash while a checkpoint
is saved never leaves a truncated file under its final name."""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend``, writing through a temporary file.

    ``put`` writes the bytes to a temporary file in the target's folder,
    flushes them to disk and renames it over the target (``os.replace``,
    atomic on POSIX and Windows): a reader sees the old file or the whole
    new one, never part of it. Used by the checkpoint hook through
    ``backend_args=dict(backend='atomic_local')``, which ``tools/train.py``
    sets by default (:func:`mmcakd.utils.set_checkpoint_defaults`).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        folder = osp.dirname(osp.abspath(filepath))
        mmengine.mkdir_or_exist(folder)
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.part')
        try:
            # mkstemp creates the file private (0600); give it the mode a
            # plain open() would (0666 less the umask).
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


register_backend('atomic_local', AtomicLocalBackend)
