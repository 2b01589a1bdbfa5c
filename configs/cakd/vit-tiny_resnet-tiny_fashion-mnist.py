# CAKD on Fashion-MNIST: the ViT teacher (7x7 tokens, 128-d, 4 heads) teaches
# the tiny ResNet student on the 10% subset (5,500 images); the student's
# layer3 (7x7, 16 channels) is distilled. Same schedule as the student alone
# (configs/students/resnet-tiny_fashion-mnist-10pct.py).
_base_ = [
    '../_base_/distillers/cakd.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/default_runtime.py',
]
_teacher = '{{ fileDirname }}/../_base_/models/vit-tiny_fashion-mnist.py'
_student = '{{ fileDirname }}/../_base_/models/resnet-tiny_fashion-mnist.py'

model = dict(
    teacher=_teacher,
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student=_student,
    student_stage='backbone.layer3',
)

max_epochs = 40
train_dataloader = dict(dataset=dict(fraction=0.1))
optim_wrapper = dict(
    student=dict(
        optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, nesterov=True,
            weight_decay=5e-4)))
# Keyed by optimizer: the student's lr follows the student-alone schedule;
# the discriminator keeps a constant lr (an un-keyed scheduler would decay
# both).
param_scheduler = dict(
    student=dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        T_max=max_epochs,
        convert_to_iter_based=True),
    discriminator=[])
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=10))
