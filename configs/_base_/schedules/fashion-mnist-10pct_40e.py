# Data and schedule of every distillation method on the Fashion-MNIST pair:
# the 10% labelled subset (5,500 class-balanced images), 40 epochs, the
# student's lr on a cosine (its optimizer is set next to the model, since a
# distiller's base already defines `optim_wrapper`). The same schedule as
# the student alone (configs/students/resnet-tiny_fashion-mnist-10pct.py).
_base_ = ['../datasets/fashion-mnist_bs128.py', '../default_runtime.py']

max_epochs = 40
train_dataloader = dict(dataset=dict(fraction=0.1))
# Keyed by optimizer: only the student's lr follows the cosine.
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
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=10))
# The student's optimizer, for every method (and the student alone):
# SGD with Nesterov momentum. A distiller config puts it in its
# optim_wrapper (the method's base sets the wrapper, and mmengine forbids a
# key in two bases):
#   optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
student_optimizer = dict(
    type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
