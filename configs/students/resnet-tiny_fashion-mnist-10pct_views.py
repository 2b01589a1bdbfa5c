# The augmentation control of MRT: the student alone on the 10% subset, with
# the same schedule, trained on the multi-view generator's views (the CAKD
# configs' default views: prob 0.5, the five default transforms) as plain
# augmentation, no teacher. Whatever CAKD with MRT gains over this is due to
# distillation, not to the views.
_base_ = './resnet-tiny_fashion-mnist-10pct.py'

model = dict(
    _delete_=True,
    type='ViewAugmentedClassifier',
    student='{{ fileDirname }}/../_base_/models/resnet-tiny_gray.py',
    views=dict(prob=0.5))
