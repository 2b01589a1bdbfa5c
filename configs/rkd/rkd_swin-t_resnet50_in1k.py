# RKD (Park et al. 2019) on ImageNet-1k: Swin-T teacher (mmpretrain model
# zoo, 81.18 top-1) -> ResNet-50 from scratch, with the schedule of
# configs/cakd/swin-t_resnet50_in1k.py (the paper's: SGD lr 0.1, wd 1e-4,
# 120 epochs, steps at 30/60/90, 8 GPUs x 32 images); only the method
# differs.
# Embeddings: ResNet-50's pooled layer4 (neck, 2048-d), Swin-T's pooled
# last stage (pre-logits, 768-d).
#   bash tools/dist_train.sh configs/rkd/rkd_swin-t_resnet50_in1k.py 8
_base_ = [
    '../_base_/distillers/rkd.py',
    '../_base_/pairs/pair_swin-t_resnet50_in1k.py',
    '../_base_/schedules/imagenet_120e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}})
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
