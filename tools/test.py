"""Evaluate a checkpoint on the config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--cfg-options k=v ...] [--launcher pytorch|slurm]
"""
import argparse
import os

import mmengine
from mmengine.config import DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmcakd.utils import (apply_process_settings, exit_on_user_error,
                          finish_distributed, init_distributed,
                          load_checkpoint_file, load_config,
                          register_all_modules, set_dataloader_defaults,
                          set_work_dir)
from mmcakd.utils import build_runner as runner_from
from mmcakd.utils.preflight import build_checked_model
from mmcakd.utils.runner_fields import check_test_fields


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='folder for the metrics log')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument(
        '--amp', action='store_true', help='test in mixed precision')
    parser.add_argument(
        '--eval-teacher',
        action='store_true',
        help='a distiller config: also report the teacher as '
        'teacher/accuracy/top1')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_runner(args: argparse.Namespace) -> Runner:
    """Config, checkpoint check and runner; a bad value or file is reported
    in one line."""
    # Missing, empty, a directory, text, another format, truncated, unsafe.
    checkpoint = load_checkpoint_file(args.checkpoint, 'checkpoint')
    cfg = load_config(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.eval_teacher:
        if 'teacher' not in cfg.model:
            raise ValueError(f'--eval-teacher: {args.config} is not a '
                             'distiller config (its model has no teacher)')
        cfg.model.eval_teacher = True
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='TeacherAccuracy', topk=(1, ))
        ]
    set_dataloader_defaults(cfg, training=False)
    check_test_fields(cfg)
    # Process-wide, so the entry point's to set (model.accel.keep_cpu_memory).
    apply_process_settings(cfg)
    init_distributed(cfg)
    if args.out and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out!r}: use a .pkl file')
    if 'runner_type' in cfg:  # a custom runner builds its own model
        return RUNNERS.build(cfg)
    # The model built once, here, to check that the checkpoint fits it.
    return runner_from(cfg,
                       build_checked_model(cfg, checkpoint, args.checkpoint))


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    runner = exit_on_user_error(build_runner, args)
    if args.out:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if runner.rank == 0:
        mmengine.dump(metrics, os.path.join(runner.log_dir, 'metrics.json'))
    finish_distributed()


if __name__ == '__main__':
    main()
