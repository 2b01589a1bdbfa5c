# RKD (Park et al., CVPR 2019): distance and angle relations of the batch's
# penultimate embeddings (student: its neck, i.e. pooled last stage;
# teacher: its pre-logits features). L = ce_weight * CE + 25 * L_D +
# 50 * L_A, the weights of the release and mdistiller. A concrete config adds
# teacher, teacher_ckpt, student and the student's optimizer.
model = dict(
    type='RKDDistiller',
    # Device tuning (mmcakd/cpu): each device's measured defaults
    # (docs/cakd_config.md, "accel"); None runs plain torch.
    accel=dict(),
    student_stage='neck',
    distill_loss=dict(
        type='RKDLoss', distance_weight=25.0, angle_weight=50.0),
    ce_weight=1.0,
)

optim_wrapper = dict(constructor='DistillerOptimWrapperConstructor')
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
