# The paper's ImageNet-1k schedule for the student, the same for every
# method: SGD lr 0.1, momentum 0.9, wd 1e-4, 120 epochs, steps at 30/60/90,
# 8 GPUs x 32 images (--auto-scale-lr rescales lr for another total batch).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    '../default_runtime.py',
]

# The student's optimizer, which a method config puts in its
# optim_wrapper (the method's base sets the wrapper, and mmengine forbids
# a key in two bases):
#   optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
student_optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)
# Keyed by optimizer: the paper's steps for the student, a constant lr for
# CAKD's discriminator (an un-keyed scheduler would decay both); a method
# without a discriminator has no optimizer of that name, and mmengine only
# reads the keys of the optimizers there are.
param_scheduler = dict(
    student=dict(
        type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90],
        gamma=0.1),
    discriminator=[])
train_cfg = dict(max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(logger=dict(interval=100))
