# CAKD in the unlabelled regime: the ViT teacher is consulted on all 55,000
# training images, 1% of which have labels (CE on those only;
# configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py). The form
# is the project's default for this pair (./vit-tiny_resnet-tiny_fashion-
# mnist.py: the paper's PCA and GL into layer3 plus the release's logit MSE,
# no MRT); `mrt=dict()` adds the paper's MRT.
_base_ = [
    '../_base_/distillers/cakd.py',
    '../_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py',
]

model = dict(
    teacher='{{ fileDirname }}/../_base_/models/vit-tiny_fashion-mnist.py',
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student='{{ fileDirname }}/../_base_/models/resnet-small_fashion-mnist.py',
    student_stage='backbone.layer3',
    logit=dict(form='mse', loss_weight=1.0),
    mrt=None,
)
optim_wrapper = dict(
    student=dict(
        optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, nesterov=True,
            weight_decay=5e-4)))
# The discriminator (with mrt=dict()) keeps a constant lr.
param_scheduler = dict(discriminator=[])
