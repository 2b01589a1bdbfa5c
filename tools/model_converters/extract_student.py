"""Write the student of a distiller checkpoint as a plain mmpretrain checkpoint.

    python tools/model_converters/extract_student.py CKPT OUT [--config CONFIG]

Keeps the ``student.*`` weights (prefix removed) and the checkpoint's meta;
drops the teacher, projectors, discriminator, optimizer and scheduler state.
The result loads with the student's own mmpretrain config, in
``tools/test.py`` and in ``mmpretrain.apis.ImageClassificationInferencer``.
With ``--config`` (the student's config), the keys and shapes are checked
against the model it builds before anything is written.
"""
import argparse
import sys

from mmcakd.utils.student_checkpoint import extract_student, save_atomically

def check_against_config(checkpoint: dict, config: str) -> None:
    from mmengine.config import Config

    from mmcakd.registry import MODELS
    from mmcakd.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(config).model)
    own, theirs = model.state_dict(), checkpoint['state_dict']
    bad = sorted(set(own) ^ set(theirs)) + sorted(
        k for k in set(own) & set(theirs) if own[k].shape != theirs[k].shape)
    if bad:
        raise ValueError(f'the student weights do not fit {config} '
                         f'({len(bad)} keys differ, e.g. {bad[0]})')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='distiller checkpoint')
    parser.add_argument('out', help='output .pth')
    parser.add_argument('--config', help="the student's own config, to check")
    args = parser.parse_args()
    try:
        student = extract_student(args.checkpoint)
        if args.config:
            check_against_config(student, args.config)
    except (FileNotFoundError, IsADirectoryError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    save_atomically(student, args.out)
    print(f'wrote {args.out} ({len(student["state_dict"])} tensors)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
