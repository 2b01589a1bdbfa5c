"""The catalogue of bad inputs (docs/bad_inputs.md) through tools/train.py.

Each case must end the run before training with one line that names the
field or file, and leave what is already in the work_dir untouched.
"""
import os
import os.path as osp
import subprocess

import pytest
import torch
from mmengine.config import Config

from mmcakd.registry import MODELS
from mmcakd.utils import register_all_modules

from ..conftest import PYTHON, ROOT
from ..test_models.test_bad_input import Payload
from .test_cakd_tools import CAKD

TEACHER_CKPT = osp.join(ROOT, 'checkpoints', 'vit-tiny_fashion-mnist.pth')
STUDENT_MODEL = osp.join(ROOT, 'configs/_base_/models/resnet-tiny_gray.py')
DOC = osp.join(ROOT, 'docs', 'bad_inputs.md')


def truncated(tmp_path):
    path = tmp_path / 'cut.pth'
    with open(TEACHER_CKPT, 'rb') as f:
        path.write_bytes(f.read()[:4000])
    return path


def another_architecture(tmp_path):
    register_all_modules()
    path = tmp_path / 'resnet.pth'
    student = MODELS.build(Config.fromfile(STUDENT_MODEL).model)
    torch.save({'state_dict': student.state_dict()}, path)
    return path


def mismatched_shapes(tmp_path):
    state = torch.load(TEACHER_CKPT, weights_only=True)['state_dict']
    key = 'backbone.cls_token'
    state[key] = torch.zeros(1, 1, state[key].shape[-1] * 2)
    path = tmp_path / 'wide.pth'
    torch.save({'state_dict': state}, path)
    return path


def runs_code(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': Payload(str(tmp_path / 'pwned'))},
               path)
    return path


def student_in_channels(tmp_path):
    student = Config.fromfile(STUDENT_MODEL).model.to_dict()
    student['backbone']['in_channels'] = 3
    student['_delete_'] = True
    config = tmp_path / 'rgb_student.py'
    config.write_text(f"_base_ = '{osp.join(ROOT, CAKD)}'\n"
                      f'model = dict(student={student!r})\n')
    return config


def ramp(tmp_path):
    config = tmp_path / 'ramp.py'
    config.write_text(f"_base_ = '{osp.join(ROOT, CAKD)}'\n"
                      'model = dict(ramp=dict(begin=5, end=2))\n')
    return config


def timm_cnn_teacher(tmp_path):
    teacher = dict(_delete_=True, type='TimmClassifier',
                   model_name='resnet10t', pretrained=False, in_chans=1,
                   num_classes=10)
    config = tmp_path / 'timm_cnn_teacher.py'
    config.write_text(f"_base_ = '{osp.join(ROOT, CAKD)}'\n"
                      f'model = dict(teacher={teacher!r}, teacher_ckpt=None)\n'
                      'allow_random_teacher = True\n')
    return config


def student_alone(tmp_path):
    return 'configs/students/resnet-tiny_fashion-mnist-10pct.py'


def empty(tmp_path):
    path = tmp_path / 'empty.pth'
    path.write_bytes(b'')
    return path


def directory(tmp_path):
    path = tmp_path / 'checkpoints'
    path.mkdir()
    return path


def text(tmp_path):
    path = tmp_path / 'weights.pth'
    path.write_text('https://example.org/vit-tiny.pth\n')
    return path


def other_format(tmp_path):
    path = tmp_path / 'picture.pth'
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(range(256)))
    return path


def run_of_another_model(tmp_path):
    """A run checkpoint (meta, message hub, optimizer) of the student alone."""
    register_all_modules()
    path = tmp_path / 'epoch_1.pth'
    student = MODELS.build(Config.fromfile(STUDENT_MODEL).model)
    torch.save({'meta': {'epoch': 1, 'iter': 4},
                'state_dict': student.state_dict(),
                'message_hub': {'log_scalars': {}, 'runtime_info': {}},
                'optimizer': {}}, path)
    return path


def noise_view(tmp_path):
    config = tmp_path / 'noise_view.py'
    config.write_text(f"_base_ = '{osp.join(ROOT, CAKD)}'\n"
                      'model = dict(mrt=dict(views=dict(transforms=['
                      "dict(type='GaussianNoise', std=-1)])))\n")
    return config


def unlabelled_regime(tmp_path):
    return 'configs/kd/kd_vit-tiny_resnet-small_fashion-mnist-1pct.py'


def alone_unlabelled(tmp_path):
    return 'configs/students/resnet-small_fashion-mnist-1pct.py'


# id: (command-line arguments, expected words in the message, docs row)
# `{file}` is replaced by what the case's maker (MAKERS) returns.
CASES = {
    'student-stage-missing': (['model.student_stage=backbone.layr3'],
                              'student_stage='),
    'student-stage-not-a-map': (['model.student_stage=head.fc'],
                                'student_stage='),
    'unsupported-teacher': ([f'model.teacher={STUDENT_MODEL}',
                             'model.teacher_ckpt=None'], 'not supported'),
    'unsupported-timm-teacher': ([], 'teacher: TimmClassifier with ResNet '
                                 'is not supported'),
    'classes-vs-head': (['model.head.num_classes=7'],
                        'train_dataloader.dataset has 10 classes'),
    'teacher-ckpt-missing': (['model.teacher_ckpt=/nonexistent/t.pth'],
                             "teacher_ckpt='/nonexistent/t.pth'"),
    'teacher-ckpt-truncated': (['model.teacher_ckpt={file}'],
                               'truncated or corrupt'),
    'teacher-ckpt-other-arch': (['model.teacher_ckpt={file}'],
                                'does not fit'),
    'teacher-ckpt-shapes': (['model.teacher_ckpt={file}'], 'shape mismatch'),
    'teacher-ckpt-runs-code': (['model.teacher_ckpt={file}'], 'safe loader'),
    'dataset-missing': (['train_dataloader.dataset.data_root=/nonexistent'],
                        'train_dataloader.dataset: Fashion-MNIST is not '
                        'prepared'),
    'fraction-zero': (['train_dataloader.dataset.fraction=0'],
                      'fraction=0 must be in (0, 1]'),
    'fraction-above-one': (['train_dataloader.dataset.fraction=1.5'],
                           'fraction=1.5 must be in (0, 1]'),
    'split-unknown': (['val_dataloader.dataset.split=valid'], "split='valid'"),
    'p-above-one': (['model.projectors.pca.p=1.5'],
                    'projectors.pca.p=1.5'),
    'p-negative': (['model.projectors.pca.p=-0.1'],
                   'projectors.pca.p=-0.1'),
    'd-interval-zero': (['model.mrt.d_interval=0'], 'mrt.d_interval=0'),
    'patch-does-not-divide': (['model.input_size=[1,30,30]'],
                              "teacher's patch size"),
    'channels-vs-teacher': (['model.input_size=[3,28,28]'],
                            'has 3 channels but the teacher takes 1'),
    'student-in-channels': ([], "backbone.in_channels"),
    'negative-gl-weight': (['model.projectors.gl.loss.loss_weight=-1'],
                           'projectors.gl.loss.loss_weight=-1'),
    'negative-adv-weight': (['model.mrt.adv_weight=-0.5'],
                            'mrt.adv_weight=-0.5'),
    'adv-form-unknown': (['model.mrt.adv_form=wasserstein'],
                         "mrt.adv_form='wasserstein'"),
    'view-prob': (['model.mrt.views.prob=2'], 'mrt.views.prob=2'),
    'unknown-option': (['model.projectors.pca.q=1'],
                       "projectors.pca: unknown option(s) ['q']"),
    'unknown-projector': (['model.projectors.gl.type=GLProjektor'],
                          "projectors.gl.type='GLProjektor' is not a "
                          'registered projector'),
    'mrt-without-gl': (['model.projectors.gl=None'],
                       'mrt needs a projector that gives tokens'),
    'ramp-order': ([], 'ramp='),
    'ramp-cap-negative': (['model.ramp.max_weight=-0.2'],
                          'ramp.max_weight=-0.2'),
    'teacher-view-unknown': (['model.mrt.views.teacher_view=left'],
                             "mrt.views.teacher_view='left'"),
    'pca-target-unknown': (['model.projectors.pca.target=outputs'],
                           "projectors.pca.target='outputs'"),
    'negative-logit-weight': (
        ['model.projectors.logit.type=LogitProjector',
         'model.projectors.logit.loss.loss_weight=-1'],
        'projectors.logit.loss.loss_weight=-1'),
    'negative-cls-token-weight': (
        ['model.projectors.cls_token.type=ClassTokenProjector',
         'model.projectors.cls_token.loss.loss_weight=-1'],
        'projectors.cls_token.loss.loss_weight=-1'),
    'labelled-fraction-zero': (
        ['train_dataloader.dataset.labelled_fraction=0'],
        'train_dataloader.dataset: PartiallyLabelledDataset: '
        'labelled_fraction=0 must be in (0, 1]'),
    'labelled-fraction-above-one': (
        ['train_dataloader.dataset.labelled_fraction=2'],
        'labelled_fraction=2 must be in (0, 1]'),
    'alone-with-unlabelled': (
        ['train_dataloader.dataset.unlabelled=mark'],
        'train_dataloader.dataset: 54450 samples are unlabelled, and '
        'ImageClassifier has no teacher'),
    'resume-ckpt-missing': ([], "--resume='/nonexistent.pth' does not exist"),
    'work-dir-is-a-file': ([], 'is a file'),
    # What the runner reads (issue 20).
    'batch-size-zero': (['train_dataloader.batch_size=0'],
                        'train_dataloader.batch_size=0 must be an integer '
                        '>= 1'),
    'workers-negative': (['val_dataloader.num_workers=-1'],
                         'val_dataloader.num_workers=-1 must be an integer '
                         '>= 0'),
    'max-epochs-zero': (['train_cfg.max_epochs=0'],
                        'train_cfg.max_epochs=0 must be an integer >= 1'),
    'val-interval-zero': (['train_cfg.val_interval=0'],
                          'train_cfg.val_interval=0'),
    'lr-not-a-number': (['optim_wrapper.student.optimizer.lr=fast'],
                        "optim_wrapper.student.optimizer.lr='fast' must be a "
                        'number > 0'),
    'momentum-above-one': (['optim_wrapper.student.optimizer.momentum=1.5'],
                           'optim_wrapper.student.optimizer.momentum=1.5 '
                           'must be a number in [0, 1)'),
    'betas-above-one': (
        ['optim_wrapper.discriminator.optimizer.betas=[0.5,1.5]'],
        'optim_wrapper.discriminator.optimizer.betas[1]=1.5'),
    'scheduler-after-end': (['param_scheduler.student.begin=50'],
                            'param_scheduler.student.begin=50 is not before '
                            "the schedule's end (max_epochs=40)"),
    'checkpoint-interval-zero': (['default_hooks.checkpoint.interval=0'],
                                 'default_hooks.checkpoint.interval=0'),
    'load-from-missing': (['load_from=/nonexistent/w.pth'],
                          "load_from='/nonexistent/w.pth' does not exist"),
    'resume-plain-weights': ([], 'holds model weights, not a run '
                             'checkpoint'),
    'resume-other-model': ([], 'is a run checkpoint of another model'),
    # Files that are not checkpoints.
    'teacher-ckpt-empty': (['model.teacher_ckpt={file}'],
                           'is empty (0 bytes), not a checkpoint'),
    'teacher-ckpt-directory': (['model.teacher_ckpt={file}'],
                               'is a directory, not a checkpoint file'),
    'teacher-ckpt-text': (['model.teacher_ckpt={file}'],
                          'is a text file, not a torch checkpoint'),
    'teacher-ckpt-other-format': (['model.teacher_ckpt={file}'],
                                  'not a torch checkpoint'),
    # Method options by type and range.
    'gl-dropout-above-one': (['model.projectors.gl.dropout=1.5'],
                             'projectors.gl.dropout=1.5 must be a number in '
                             '[0, 1]'),
    'gl-group-size-fraction': (['model.projectors.gl.group_size=2.5'],
                               'projectors.gl.group_size=2.5 must be an '
                               'integer >= 1'),
    'p-not-a-number': (['model.projectors.pca.p=half'],
                       "projectors.pca.p='half' must be a number in [0, 1]"),
    'view-noise-negative': ([], 'mrt.views.transforms[0].std=-1 must be a '
                            'number >= 0'),
    'discriminator-width-zero': (
        ['model.mrt.discriminator.hidden_channels=0'],
        'mrt.discriminator.hidden_channels=0 must be an integer >= 1'),
    'optimizer-type-unknown': (['optim_wrapper.student.optimizer.type=SGDD'],
                               "optim_wrapper.student.optimizer.type='SGDD' "
                               'is not a registered optimizers type '
                               '(closest: SGD'),
    'hook-type-unknown': (["custom_hooks.1.type=NaNGardHook"],
                          "custom_hooks[1].type='NaNGardHook' is not a "
                          'registered hooks type (closest: NaNGuardHook'),
    'seed-not-an-integer': (['randomness.seed=abc'],
                            "randomness.seed='abc' must be an integer"),
    'max-iters-on-an-epoch-loop': (['train_cfg.max_iters=100'],
                                   'train_cfg.max_iters: '
                                   'ResumableEpochBasedTrainLoop counts '
                                   'epochs'),
    'teacher-without-weights': (['model.teacher_ckpt=None'],
                                'model.teacher_ckpt is None and the teacher '
                                'loads no weights of its own'),
    'tap-runs-twice': (['model.student_stage=backbone.layer1.0.relu'],
                       "student_stage='backbone.layer1.0.relu' runs 2 times "
                       "in one forward of the model (a module reused inside "
                       "its block), so it has no single output to distil; "
                       "tap the enclosing block 'backbone.layer1.0'"),
}
MAKERS = {
    'teacher-ckpt-truncated': truncated,
    'teacher-ckpt-other-arch': another_architecture,
    'teacher-ckpt-shapes': mismatched_shapes,
    'teacher-ckpt-runs-code': runs_code,
    'teacher-ckpt-empty': empty,
    'teacher-ckpt-directory': directory,
    'teacher-ckpt-text': text,
    'teacher-ckpt-other-format': other_format,
}
# Cases given on the command line after the config: `--resume FILE`.
RESUME = {
    'resume-ckpt-missing': lambda tmp_path: '/nonexistent.pth',
    'resume-plain-weights': lambda tmp_path: TEACHER_CKPT,
    'resume-other-model': run_of_another_model,
}
CONFIGS = {'student-in-channels': student_in_channels, 'ramp-order': ramp,
           'labelled-fraction-zero': unlabelled_regime,
           'labelled-fraction-above-one': unlabelled_regime,
           'alone-with-unlabelled': alone_unlabelled,
           'view-noise-negative': noise_view,
           'unsupported-timm-teacher': timm_cnn_teacher,
           'classes-vs-head': student_alone}


def snapshot(folder):
    return {name: (os.stat(folder / name).st_mtime_ns,
                   (folder / name).read_bytes())
            for name in sorted(os.listdir(folder))}


@pytest.mark.parametrize('case', sorted(CASES))
def test_bad_input_stops_in_one_line(case, tmp_path, data_root):
    options, expected = CASES[case]
    config = CONFIGS[case](tmp_path) if case in CONFIGS else CAKD
    if case in MAKERS:
        options = [o.format(file=MAKERS[case](tmp_path)) for o in options]
    # A work_dir from an earlier run, which must survive.
    work_dir = tmp_path / 'work_dir'
    work_dir.mkdir()
    (work_dir / 'epoch_1.pth').write_bytes(b'an earlier checkpoint')
    (work_dir / osp.basename(str(config))).write_text('an earlier config')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_1.pth'))
    if case == 'work-dir-is-a-file':
        work_dir = tmp_path / 'a_file'
        work_dir.write_text('keep me')
    extra = ['--resume', str(RESUME[case](tmp_path))] if case in RESUME \
        else []
    before = snapshot(tmp_path / 'work_dir')

    proc = subprocess.run(
        [PYTHON, 'tools/train.py', str(config), '--work-dir', str(work_dir),
         *extra, *(['--cfg-options', *options] if options else [])],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))

    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    message = proc.stderr.strip().splitlines()[-1]
    assert expected in message, message
    assert proc.stdout == ''  # stopped before the runner logged anything
    assert snapshot(tmp_path / 'work_dir') == before
    if case == 'work-dir-is-a-file':
        assert work_dir.read_text() == 'keep me'
    assert not (tmp_path / 'pwned').exists()


def test_every_case_is_in_the_docs():
    with open(DOC) as f:
        doc = f.read()
    for case in CASES:
        assert f'`{case}`' in doc, case
