# DKD (Zhao et al., CVPR 2022): L = ce_weight * CE + w(t) * T^2 *
# (alpha * TCKD + beta * NCKD). Defaults: mdistiller's CIFAR-100 recipe
# (alpha=1, beta=8, T=4, CE weight 1, the DKD term warmed up linearly over
# the first 20 of 240 epochs); mdistiller uses beta=0.5, T=1 on ImageNet.
# A concrete config adds teacher, teacher_ckpt, student and the student's
# optimizer, and scales the warm-up to its schedule.
model = dict(
    type='LogitDistiller',
    # Device tuning (mmcakd/cpu): each device's measured defaults
    # (docs/cakd_config.md, "accel"); None runs plain torch.
    accel=dict(),
    distill_loss=dict(type='DKDLoss', alpha=1.0, beta=8.0, temperature=4.0),
    ce_weight=1.0,
    ramp=dict(begin=0, end=20, by_epoch=True),
)

optim_wrapper = dict(constructor='DistillerOptimWrapperConstructor')
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
