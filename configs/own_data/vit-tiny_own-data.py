# docs/own_data.md, step 2: the teacher on your own image folder
# (../_base_/datasets/own-data.py). It starts from a teacher you already
# have, here the committed Fashion-MNIST ViT (trained on Fashion-MNIST's
# training split; the folder is made of test images it never saw), and is
# fine-tuned on the labelled folder for a few epochs.
_base_ = [
    '../_base_/models/vit-tiny-p4_gray.py',
    '../_base_/datasets/own-data.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes={{_base_.num_classes}}))
load_from = 'checkpoints/vit-tiny_fashion-mnist.pth'

max_epochs = 5
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
                       begin=0, end=max_epochs, convert_to_iter_based=True)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(interval=max_epochs))
