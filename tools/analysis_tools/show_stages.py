"""Which student module to distil into: the teacher's token grid beside
every student module that outputs a feature map.

    python tools/analysis_tools/show_stages.py CONFIG [--depth 2]
        [--cfg-options k=v ...]

Builds the config's teacher and student (random weights: shapes only), runs
one dry batch of the training input size through both and prints the
teacher's grid (H_T, W_T), width and heads, then each student module with a
(B, C, H, W) output (modules nested at most ``--depth`` levels below the
classifier), marking those whose map has the teacher's grid:
``student_stage`` is best one of them (a larger map is average-pooled, a
smaller one upsampled, method.md).
"""
import argparse
import sys

import torch
from mmengine.config import Config, DictAction

from mmcakd.models.distillers import build_classifier
from mmcakd.models.teachers import build_teacher_reader
from mmcakd.utils import register_all_modules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--depth', type=int, default=2,
                        help='deepest module level shown (default 2: '
                        "'backbone.layer3', not its blocks)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if 'teacher' not in cfg.model or 'student' not in cfg.model:
        print(f'error: {args.config}: model has no teacher and student; '
              'give a distiller config', file=sys.stderr)
        return 1
    teacher = build_classifier(cfg.model.teacher, 'teacher').eval()
    student = build_classifier(cfg.model.student, 'student').eval()
    reader = build_teacher_reader(teacher, tokens=True, method='CAKD')
    size = tuple(cfg.model.get('input_size') or reader.input_size() or ())
    if len(size) != 3:
        print('error: model.input_size: the teacher does not say its input '
              'size; give (C, H, W)', file=sys.stderr)
        return 1
    shapes = {}

    def keep(name):
        def hook(module, args, out):
            if isinstance(out, torch.Tensor) and out.dim() == 4:
                shapes.setdefault(name, tuple(out.shape[1:]))
        return hook

    handles = [module.register_forward_hook(keep(name))
               for name, module in student.named_modules()
               if name and name.count('.') < args.depth]
    with torch.no_grad():
        t = reader(torch.zeros(2, *size))
        student(torch.zeros(2, *size), mode='tensor')
    for handle in handles:
        handle.remove()
    print(f'input (C, H, W): {size}')
    print(f'teacher: grid {t.grid[0]}x{t.grid[1]}, width '
          f'{t.tokens.shape[-1]}, {t.q.shape[1]} heads')
    print('student modules with a feature map (C, H, W):')
    for name, (c, h, w) in shapes.items():
        mark = '  <- the teacher\'s grid' if (h, w) == tuple(t.grid) else ''
        print(f'  {name:40s} {c:5d} x {h} x {w}{mark}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
