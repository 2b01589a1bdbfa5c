"""The student of a distiller checkpoint as a plain mmpretrain checkpoint."""
import os
import os.path as osp

import torch

from .checkpoint_file import load_checkpoint_file

PREFIX = 'student.'


def extract_student(src: str) -> dict:
    """The student-only checkpoint of the distiller checkpoint ``src``:
    ``state_dict`` holds the ``student.*`` weights with the prefix removed
    (the teacher, projectors, discriminator, optimizer and scheduler state
    are dropped), ``meta`` the checkpoint's meta and ``extracted_from``."""
    # Missing, empty, a directory, text, another format, truncated, unsafe.
    checkpoint = load_checkpoint_file(src, 'checkpoint')
    state = checkpoint.get('state_dict') if isinstance(checkpoint,
                                                       dict) else None
    student = {
        k[len(PREFIX):]: v
        for k, v in (state or {}).items() if k.startswith(PREFIX)
    }
    if not student:
        raise ValueError(f'{src}: not a distiller checkpoint (no '
                         f'`{PREFIX}*` weights in its state_dict); expected '
                         'a checkpoint written by tools/train.py with a '
                         'distiller config')
    return _plain(student, checkpoint, src)


def weights_only(src: str) -> dict:
    """A classifier's training checkpoint ``src`` without its optimizer and
    scheduler state: ``state_dict`` and ``meta``."""
    checkpoint = load_checkpoint_file(src, 'checkpoint')
    return _plain(checkpoint['state_dict'], checkpoint, src)


def _plain(state_dict: dict, checkpoint: dict, src: str) -> dict:
    """``state_dict`` with ``checkpoint``'s meta and where it came from."""
    meta = dict(checkpoint.get('meta', {}))
    meta['extracted_from'] = osp.basename(src)
    return dict(state_dict=state_dict, meta=meta)


def save_atomically(checkpoint: dict, out: str) -> None:
    """``torch.save`` to ``out`` through a temporary file: a reader never
    sees half a file."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(checkpoint, out + '.part')
    os.replace(out + '.part', out)
