# The student alone on the low-data subset: 10% of the training split
# (5,500 class-balanced images, fixed by split_seed), longer schedule.
_base_ = './resnet-tiny_fashion-mnist.py'

max_epochs = 40
train_dataloader = dict(dataset=dict(fraction=0.1))
param_scheduler = dict(T_max=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=10))
