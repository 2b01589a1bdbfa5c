# The augmentation control in the unlabelled regime: the student alone on
# its 550 labelled images (./resnet-small_fashion-mnist-1pct.py), trained on
# the multi-view generator's views (MRT's default views, prob 0.5) as plain
# augmentation, no teacher.
_base_ = './resnet-small_fashion-mnist-1pct.py'

model = dict(
    _delete_=True,
    type='ViewAugmentedClassifier',
    student='{{ fileDirname }}/../_base_/models/resnet-small_gray.py',
    views=dict(prob=0.5))
