"""Train a model (a plain mmpretrain classifier or a distiller) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher pytorch|slurm]
"""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmcakd.utils import (apply_process_settings, build_runner,
                          check_before_training, enable_amp,
                          exit_on_user_error, finish_distributed,
                          init_distributed, load_config,
                          register_all_modules, set_checkpoint_defaults,
                          set_dataloader_defaults, set_work_dir)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or, without a path, from the '
        'latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--no-validate', action='store_true', help='skip validation')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by actual / base batch size (auto_scale_lr)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value (e.g. '
        'train_cfg.max_epochs=2)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to the config (CLI wins, as in mmpretrain)."""
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        enable_amp(cfg.optim_wrapper)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr: the config has no auto_scale_lr '
                           '(e.g. auto_scale_lr = dict(base_batch_size=256))')
        cfg.auto_scale_lr.enable = True
    set_dataloader_defaults(cfg, training=True)
    set_checkpoint_defaults(cfg)
    init_distributed(cfg)
    return cfg


def prepare_runner(args: argparse.Namespace) -> Runner:
    """Config, checks and runner: everything before the first step, where
    a bad value or file is reported in one line and nothing in the work_dir
    has been overwritten yet. The runner takes the model and datasets the
    checks built (a custom ``runner_type`` builds its own again)."""
    cfg = merge_args(load_config(args.config), args)
    # Process-wide, so the entry point's to set (model.accel.keep_cpu_memory).
    apply_process_settings(cfg)
    prepared = check_before_training(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return build_runner(cfg, prepared)


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    runner = exit_on_user_error(prepare_runner, args)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
