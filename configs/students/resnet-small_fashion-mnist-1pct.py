# The student alone in the unlabelled regime
# (configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py): the 44k
# ResNet on the same 550 labelled images the distillers get, cycled to the
# full epoch length (55,000 samples, unlabelled='replace'), so that it takes
# as many steps as a distiller; it cannot use the unlabelled images. The
# optimizer and lr schedule are the distillers' student's.
_base_ = [
    '../_base_/models/resnet-small_gray.py',
    '../_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py',
]

train_dataloader = dict(dataset=dict(unlabelled='replace'))
optim_wrapper = dict(optimizer={{_base_.student_optimizer}})
param_scheduler = dict(
    _delete_=True,
    type='CosineAnnealingLR',
    by_epoch=True,
    T_max={{_base_.max_epochs}},
    convert_to_iter_based=True)
