from .checkpoint_file import load_checkpoint_file
from .launch import (apply_process_settings, enable_amp, finish_distributed,
                     init_distributed, load_config, model_config,
                     set_checkpoint_defaults, set_dataloader_defaults,
                     set_work_dir)
from .preflight import (Prepared, build_runner, check_before_training,
                        exit_on_user_error)
from .setup_env import register_all_modules

__all__ = [
    'Prepared', 'apply_process_settings', 'build_runner',
    'check_before_training', 'enable_amp',
    'exit_on_user_error', 'finish_distributed', 'init_distributed',
    'load_checkpoint_file', 'load_config',
    'model_config', 'register_all_modules', 'set_checkpoint_defaults',
    'set_dataloader_defaults', 'set_work_dir'
]
