# Few labels, many images (docs/benchmark_unlabelled.md): all 55,000
# images of the training split, of which a class-balanced 1% (550, 55 per
# class, fixed by split_seed) keep their labels; a distiller uses the other
# 54,450 images without their labels (no CE, every distillation term), 3
# epochs, the student's lr on a cosine. The
# student alone (configs/students/resnet-small_fashion-mnist-1pct.py) trains
# on the same 550 labelled images, cycled to the same epoch length, so it
# takes as many steps. The label fraction and the student's width (44k,
# configs/_base_/models/resnet-small_gray.py) were chosen on the
# validation split: where logit KD gains most over the student alone.
_base_ = ['../datasets/fashion-mnist_bs128.py', '../default_runtime.py']

labelled_fraction = 0.01
max_epochs = 3
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PartiallyLabelledDataset',
        labelled_fraction=labelled_fraction,
        seed={{_base_.split_seed}},
        unlabelled='mark',
        dataset={{_base_.train_dataloader.dataset}}))
# Keyed by optimizer: only the student's lr follows the cosine.
param_scheduler = dict(
    student=dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        T_max=max_epochs,
        convert_to_iter_based=True))
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
# The student's optimizer, for every method (and the student alone):
# SGD with Nesterov momentum. A distiller config puts it in its
# optim_wrapper (the method's base sets the wrapper, and mmengine forbids a
# key in two bases):
#   optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
student_optimizer = dict(
    type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
