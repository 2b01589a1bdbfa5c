# FitNet-style hint (Romero et al., ICLR 2015): one student stage -> 1x1 conv
# regressor -> the teacher's final patch tokens (aligned to the teacher's
# grid as CAKD does), MSE. L = ce_weight * CE + loss_weight * MSE. A
# concrete config adds teacher, teacher_ckpt, student, student_stage (the
# same stage CAKD taps) and the student's optimizer.
model = dict(
    type='FitNetDistiller',
    # Device tuning (mmcakd/cpu): each device's measured defaults
    # (docs/cakd_config.md, "accel"); None runs plain torch.
    accel=dict(),
    distill_loss=dict(type='FitNetLoss', loss_weight=1.0),
    ce_weight=1.0,
)

optim_wrapper = dict(constructor='DistillerOptimWrapperConstructor')
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
