# RKD (Park et al. 2019) on Fashion-MNIST: the ViT teacher (7x7 tokens,
# 128-d) teaches the tiny ResNet student on the 10% subset (5,500 images).
# Teacher, student, data, schedule and optimizer are those of
# configs/cakd/vit-tiny_resnet-tiny_fashion-mnist.py; only the method
# differs.
# Embeddings: the student's pooled layer3 (neck), the teacher's final
# CLS token (pre-logits).
_base_ = [
    '../_base_/distillers/rkd.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/default_runtime.py',
]
_teacher = '{{ fileDirname }}/../_base_/models/vit-tiny_fashion-mnist.py'
_student = '{{ fileDirname }}/../_base_/models/resnet-tiny_fashion-mnist.py'

model = dict(
    teacher=_teacher,
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student=_student,
)

max_epochs = 40
train_dataloader = dict(dataset=dict(fraction=0.1))
optim_wrapper = dict(
    student=dict(
        optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, nesterov=True,
            weight_decay=5e-4)))
param_scheduler = dict(
    student=dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        T_max=max_epochs,
        convert_to_iter_based=True))
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=10))
