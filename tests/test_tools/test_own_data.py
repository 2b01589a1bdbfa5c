"""docs/own_data.md on a tiny folder: the image folder, the teacher
fine-tuned on it, student_stage read from the shapes, CAKD on labelled and
unlabelled images."""
import glob
import os
import os.path as osp

from ..conftest import PYTHON, ROOT, run_tool

TEACHER = 'configs/own_data/vit-tiny_own-data.py'
CAKD = 'configs/own_data/cakd_vit-tiny_resnet-small_own-data.py'


def make_folder(tmp_path, data_root):
    out = tmp_path / 'own'
    run_tool([PYTHON, 'tools/dataset_converters/fashion_mnist_to_folder.py',
              str(out), '--src', data_root, '--train-per-class', '4',
              '--val-per-class', '2', '--unlabelled', '24'])
    return out


def test_folder_is_disjoint_and_ordered_as_the_teacher(tmp_path, data_root):
    out = make_folder(tmp_path, data_root)
    classes = sorted(osp.basename(p) for p in glob.glob(str(out / 'train/*')))
    assert [c.split('-')[0] for c in classes] == [str(i) for i in range(10)]
    files = {split: {osp.basename(p) for p in glob.glob(
        str(out / split / '**' / '*.png'), recursive=True)}
        for split in ('train', 'val', 'unlabelled')}
    assert [len(files[s]) for s in ('train', 'val', 'unlabelled')] == \
        [40, 20, 24]
    assert not (files['train'] & files['val'] or files['train'] &
                files['unlabelled'] or files['val'] & files['unlabelled'])
    # Run again: left alone.
    again = run_tool([PYTHON,
                      'tools/dataset_converters/fashion_mnist_to_folder.py',
                      str(out), '--src', data_root, '--train-per-class', '4',
                      '--val-per-class', '2', '--unlabelled', '24'])
    assert 'is ready' in again.stdout


def test_show_stages_marks_the_teachers_grid():
    out = run_tool([PYTHON, 'tools/analysis_tools/show_stages.py', CAKD])
    assert 'teacher: grid 7x7, width 128, 4 heads' in out.stdout
    marked = [line.split()[0] for line in out.stdout.splitlines()
              if "<- the teacher's grid" in line]
    assert marked == ['backbone.layer3']


def test_guide_trains_the_teacher_and_distils(tmp_path, data_root):
    out = make_folder(tmp_path, data_root)
    data = [f'train_dataloader.dataset.data_root={out}',
            f'val_dataloader.dataset.data_root={out}',
            f'test_dataloader.dataset.data_root={out}']
    teacher_dir = tmp_path / 'teacher'
    run_tool([PYTHON, 'tools/train.py', TEACHER, '--work-dir',
              str(teacher_dir), '--cfg-options', 'train_cfg.max_epochs=1',
              'default_hooks.checkpoint.interval=1', *data])
    student_dir = tmp_path / 'student'
    log = run_tool([
        PYTHON, 'tools/train.py', CAKD, '--work-dir', str(student_dir),
        '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        f'model.teacher_ckpt={teacher_dir / "epoch_1.pth"}',
        f'train_dataloader.dataset.dataset.datasets.0.data_root={out}',
        f'train_dataloader.dataset.dataset.datasets.1.data_root={out}',
        'train_dataloader.batch_size=16', 'default_hooks.logger.interval=1',
        *data[1:]])
    text = log.stdout + log.stderr
    # 64 images: 40 labelled and 24 unlabelled, 4 steps of 16.
    assert 'loss_pca' in text and 'loss_logit' in text
    steps = [float(part.split(':')[1]) for line in text.splitlines()
             if 'Epoch(train)' in line for part in line.split('  ')
             if part.strip().startswith('num_labelled')]
    assert len(steps) == 4 and sum(steps) == 40
    assert osp.isfile(student_dir / 'epoch_1.pth')


def test_guide_on_a_folder_of_other_classes_colours_and_sizes(
        tmp_path, data_root):
    """The guide followed on a folder unlike Fashion-MNIST's: 4 classes of
    other names, RGB PNGs of other sizes (44x36, 30x30). What the guide
    says to change is all that changes: ``data_root`` and ``num_classes``
    in the data settings (the images are read as grey and resized to the
    teacher's input; the teacher's head is fine-tuned to the 4 classes)."""
    import shutil

    import cv2
    import torch
    source = make_folder(tmp_path, data_root)
    out = tmp_path / 'fruit'
    names = {'0-t-shirt': 'apple', '1-trouser': 'kiwi', '5-sandal': 'lemon',
             '8-bag': 'pear'}

    def convert(src, dst, size):
        img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
        img = cv2.cvtColor(cv2.resize(img, size), cv2.COLOR_GRAY2BGR)
        os.makedirs(osp.dirname(dst), exist_ok=True)
        cv2.imwrite(str(dst), img)

    for split, size in (('train', (44, 36)), ('val', (30, 30))):
        for old, new in names.items():
            for png in (source / split / old).glob('*.png'):
                convert(png, out / split / new / png.name, size)
    for png in (source / 'unlabelled').glob('*.png'):
        convert(png, out / 'unlabelled' / png.name, (44, 36))

    configs = tmp_path / 'configs'
    for folder in ('_base_', 'own_data'):
        shutil.copytree(osp.join(ROOT, 'configs', folder), configs / folder)
    settings = configs / '_base_' / 'datasets' / 'own-data.py'
    text = settings.read_text()
    for old, new in ((" = 'data/own'", f' = {str(out)!r}'),
                     ('num_classes = 10', 'num_classes = 4')):
        assert old in text
        text = text.replace(old, new)
    settings.write_text(text)

    teacher_dir = tmp_path / 'teacher'
    run_tool([PYTHON, 'tools/train.py', str(configs / TEACHER[8:]),
              '--work-dir', str(teacher_dir), '--cfg-options',
              'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1'])
    student_dir = tmp_path / 'student'
    log = run_tool([
        PYTHON, 'tools/train.py', str(configs / CAKD[8:]), '--work-dir',
        str(student_dir), '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1',
        f'model.teacher_ckpt={teacher_dir / "epoch_1.pth"}',
        'train_dataloader.batch_size=8'])
    assert 'loss_logit' in log.stdout + log.stderr
    state = torch.load(student_dir / 'epoch_1.pth', weights_only=False,
                       map_location='cpu')['state_dict']
    assert state['student.head.fc.weight'].shape[0] == 4
    assert state['teacher.head.layers.head.weight'].shape[0] == 4
