# CAKD on ImageNet-1k with a timm teacher: ViT-B/16 with timm's AugReg
# weights (in21k, fine-tuned on in1k: 85.1 top-1 at 224 px, the strongest
# public ViT-B/16) -> ResNet-50 from scratch, the paper's schedule. timm
# fetches the weights on the first run (`pretrained=True`, cached in
# ~/.cache/huggingface); no teacher_ckpt is needed. ViT-B/16 has a 14x14
# token grid at 224 px: the student's layer3 (14x14) is distilled.
#   bash tools/dist_train.sh configs/cakd/timm-vit-b16_resnet50_in1k.py 8
_base_ = './swin-t_resnet50_in1k.py'

model = dict(
    teacher=dict(
        _delete_=True,
        type='TimmClassifier',
        model_name='vit_base_patch16_224.augreg2_in21k_ft_in1k',
        pretrained=True),
    teacher_ckpt=None,
    student_stage='backbone.layer3',
    # The data preprocessor below serves both models; the student learns
    # from scratch, so it takes the teacher's normalisation.
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5],
                           std=[127.5, 127.5, 127.5]),
)
