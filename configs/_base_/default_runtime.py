# Runtime shared by mmcakd's configs (mmpretrain's default_runtime, scope mmcakd).
default_scope = 'mmcakd'
custom_imports = dict(imports=['mmcakd'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

# For TensorBoard curves (every loss term, lr and accuracy, in
# <work_dir>/<timestamp>/vis_data), put in your config:
#   visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
#                                   dict(type='TensorboardVisBackend')])
# and run `tensorboard --logdir work_dirs`.
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

# A run killed mid-epoch and resumed (--resume) continues exactly as if it
# had never stopped: the loop skips the batches already trained and seeds each
# sample's augmentation from (seed, epoch, index); RandomStateHook restores the
# global random streams (dropout). Configs add max_epochs and val_interval.
train_cfg = dict(type='ResumableEpochBasedTrainLoop')

# SafeCheckpointHook writes the message hub as plain data, so that --resume,
# load_from and tools/test.py read the runner's own checkpoints with torch's
# safe loader; NaNGuardHook stops at the first NaN/Inf loss term, before the
# diverged model could be saved.
custom_hooks = [
    dict(type='SafeCheckpointHook'),
    dict(type='NaNGuardHook'),
    dict(type='RandomStateHook'),
]
