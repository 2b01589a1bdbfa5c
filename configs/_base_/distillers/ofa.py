# OFA-KD (Hao et al., NeurIPS 2023): exits from student stages into logit
# space, each trained with the OFA loss against the teacher's logits, plus
# the OFA loss on the student's own logits. Defaults: the release's
# (github.com/Hao840/OFAKD train.py): eps=1, T=1, all weights 1. A concrete
# config adds teacher, teacher_ckpt, student, stages (the release: all
# four stages of a ResNet) and the student's optimizer.
model = dict(
    type='OFADistiller',
    # Device tuning (mmcakd/cpu): each device's measured defaults
    # (docs/cakd_config.md, "accel"); None runs plain torch.
    accel=dict(),
    distill_loss=dict(type='OFALoss', eps=1.0, temperature=1.0,
                      loss_weight=1.0),
    exit_weight=1.0,
    ce_weight=1.0,
)

optim_wrapper = dict(constructor='DistillerOptimWrapperConstructor')
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
