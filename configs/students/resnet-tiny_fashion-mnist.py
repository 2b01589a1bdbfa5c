# The Fashion-MNIST student alone: an 11k-parameter CIFAR-style ResNet trained
# with cross-entropy on the full training split (55k images).
_base_ = [
    '../_base_/models/resnet-tiny_gray.py',
    '../_base_/datasets/fashion-mnist_bs128.py',
    '../_base_/default_runtime.py',
]

max_epochs = 10
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR',
    by_epoch=True,
    T_max=max_epochs,
    convert_to_iter_based=True)
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(logger=dict(interval=100))
