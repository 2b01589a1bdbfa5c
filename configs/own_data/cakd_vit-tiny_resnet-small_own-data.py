# docs/own_data.md, step 4: CAKD (the default form chosen on validation in
# the unlabelled regime) from the teacher of step 2 into a small ResNet, on
# the labelled folder plus the flat folder of unlabelled images (no CE
# there; every distillation term uses them).
_base_ = [
    '../_base_/distillers/cakd.py',
    '../_base_/datasets/own-data.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # The teacher's config (its `model` is used) and the weights of step 2.
    teacher='{{ fileDirname }}/vit-tiny_own-data.py',
    teacher_ckpt='work_dirs/vit-tiny_own-data/epoch_5.pth',
    # Any mmpretrain classifier, as a model dict (or the path of a config
    # whose `model` is used): here the benchmark's 44k-parameter ResNet
    # (../_base_/models/resnet-small_gray.py) for one-channel images, with
    # the folder's class count.
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, num_stages=3,
                      in_channels=1, stem_channels=8, base_channels=8,
                      strides=(1, 2, 2), dilations=(1, 1, 1),
                      out_indices=(2, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}},
                  in_channels=32,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    # Step 3 (tools/analysis_tools/show_stages.py): the teacher's grid is
    # 7x7 at 28 px, as the student's layer3.
    student_stage='backbone.layer3',
    projectors=dict(
        logit=dict(
            type='LogitProjector',
            loss=dict(
                type='LogitLoss', form='kl', temperature=4.0,
                loss_weight=0.9))),
    ce_weight=0.1,
    mrt=None,
)

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PartiallyLabelledDataset',
        labelled_fraction=1.0,  # keep every label there is
        dataset=dict(
            type='ConcatDataset',
            ignore_keys=['classes'],
            datasets=[
                dict(type='CustomDataset', data_root={{_base_.data_root}},
                     data_prefix='train',
                     pipeline={{_base_.train_pipeline}}),
                dict(type='CustomDataset', data_root={{_base_.data_root}},
                     data_prefix='unlabelled', with_label=False,
                     pipeline={{_base_.train_pipeline}}),
            ])))

optim_wrapper = dict(
    student=dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, nesterov=True,
                       weight_decay=5e-4)))
max_epochs = 10
param_scheduler = dict(
    student=dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                 convert_to_iter_based=True),
    discriminator=[])
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=max_epochs))
