# CAKD's defaults (method.md): the paper-faithful components with the
# release's loss weights. A concrete config adds teacher, teacher_ckpt,
# student and student_stage, and the student's optimizer.
model = dict(
    type='CAKDDistiller',
    # Device tuning (mmcakd/cpu): each device's measured defaults
    # (docs/cakd_config.md, "accel"); None runs plain torch.
    accel=dict(),
    # Built in this order from the PROJECTORS registry; each adds
    # loss_<name> (docs/cakd_config.md). `None` switches one off.
    projectors=dict(
        pca=dict(
            type='PCAProjector', p=0.5, teacher_attn='paper',
            loss=dict(type='PCALoss', attn_weight=0.2, vv_weight=0.05)),
        gl=dict(
            type='GLProjector', group_size=4, dropout=0.1,
            loss=dict(type='GLLoss', loss_weight=0.05))),
    mrt=dict(
        views=dict(prob=0.5),
        adv_weight=0.05,
        adv_form='non_saturating',
        d_interval=5),
)

optim_wrapper = dict(
    constructor='DistillerOptimWrapperConstructor',
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))

# Each trainable part (student, projectors, discriminator) in its own DDP,
# so that the distiller's own train_step runs under DDP.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
