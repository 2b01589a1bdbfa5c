# The student alone in the unlabelled regime
# (configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py): the same
# 550 labelled images (1%, class-balanced, split_seed) the distillers get,
# cycled to the full epoch length (55,000 samples), so that it takes as many
# steps as a distiller; it cannot use the unlabelled images.
_base_ = './resnet-tiny_fashion-mnist.py'

max_epochs = 3
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PartiallyLabelledDataset',
        labelled_fraction=0.01,
        seed={{_base_.split_seed}},
        unlabelled='replace',
        dataset={{_base_.train_dataloader.dataset}}))
param_scheduler = dict(T_max=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
