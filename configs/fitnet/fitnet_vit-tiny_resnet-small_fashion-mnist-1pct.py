# FitNet in the unlabelled regime: the ViT teacher is consulted on all
# 55,000 training images, 1% of which have labels (CE on those only;
# configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py). Method
# options as in ./fitnet_vit-tiny_resnet-tiny_fashion-mnist.py.
_base_ = [
    '../_base_/distillers/fitnet.py',
    '../_base_/pairs/pair_vit-tiny_resnet-small_fashion-mnist.py',
    '../_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    student_stage='backbone.layer3',
)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
