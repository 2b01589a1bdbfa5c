# Hinton et al. 2015, logit KD: L = ce_weight * CE + loss_weight * T^2 *
# KL(p_t || p_s), p = softmax(z / T). Hinton's alpha is loss_weight, with
# ce_weight = 1 - alpha. Defaults: mdistiller's CIFAR-100 recipe (T=4,
# alpha=0.9). A concrete config adds teacher, teacher_ckpt, student and the
# student's optimizer.
model = dict(
    type='LogitDistiller',
    # Device tuning (mmcakd/cpu): each device's measured defaults
    # (docs/cakd_config.md, "accel"); None runs plain torch.
    accel=dict(),
    distill_loss=dict(type='KDLoss', temperature=4.0, loss_weight=0.9),
    ce_weight=0.1,
)

# One optimizer, the student's; the constructor keeps the teacher out of it.
optim_wrapper = dict(constructor='DistillerOptimWrapperConstructor')
# The distiller's own train_step under DDP (it picks the student's
# optimizer out of the OptimWrapperDict).
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
