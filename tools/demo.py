"""The main job: teacher, student alone, logit KD and CAKD on Fashion-MNIST.

    python tools/demo.py [--retrain-teacher] [--teacher-only] [--work-dir DIR]

1. The ViT teacher: the committed checkpoint (checkpoints/) is reused when
   present; otherwise (or with --retrain-teacher) it is trained with
   configs/teachers/vit-tiny_fashion-mnist.py on the full training split.
2. The ResNet student alone on the 10% subset.
3. The same student distilled with logit KD (Hinton et al.) and with CAKD
   (the project's default form, chosen on the validation split) on the same
   subset, schedule and seed: seed 0 of the benchmark's rows.
Every model is evaluated on the 10,000 official test images, and a table of
test accuracy and wall time is printed at the end. Every run goes through
tools/train.py and tools/test.py, in subprocesses, as a user would run them.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER_CFG = 'configs/teachers/vit-tiny_fashion-mnist.py'
TEACHER_CKPT = 'checkpoints/vit-tiny_fashion-mnist.pth'
STUDENT_CFG = 'configs/students/resnet-tiny_fashion-mnist-10pct.py'
KD_CFG = 'configs/kd/vit-tiny_resnet-tiny_fashion-mnist.py'
CAKD_CFG = 'configs/cakd/vit-tiny_resnet-tiny_fashion-mnist.py'


def run(args: list, log: str) -> None:
    """Run a tool of this repository; its output goes to ``log``."""
    with open(log, 'a') as f:
        proc = subprocess.run([sys.executable] + args, cwd=ROOT, stdout=f,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-20:])
        raise SystemExit(f'{" ".join(args)} failed (log: {log}):\n{tail}')


def train(config: str, work_dir: str, extra: list = ()) -> str:
    """Train from scratch in ``work_dir``; return the last checkpoint."""
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    print(f'  training {config} (log: {work_dir}/train.log)', flush=True)
    run(['tools/train.py', config, '--work-dir', work_dir, *extra],
        osp.join(work_dir, 'train.log'))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def test(config: str, checkpoint: str, work_dir: str) -> float:
    """Top-1 (%) of ``checkpoint`` on the Fashion-MNIST test set."""
    test_dir = osp.join(work_dir, 'test')
    os.makedirs(test_dir, exist_ok=True)
    run(['tools/test.py', config, checkpoint, '--work-dir', test_dir],
        osp.join(work_dir, 'test.log'))
    latest = sorted(glob.glob(osp.join(test_dir, '*', 'metrics.json')))[-1]
    with open(latest) as f:
        return json.load(f)['accuracy/top1']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument(
        '--retrain-teacher',
        action='store_true',
        help=f'train the teacher anew and overwrite {TEACHER_CKPT}')
    parser.add_argument(
        '--teacher-only', action='store_true', help='stop after the teacher')
    args = parser.parse_args()

    rows = []
    start = time.time()
    print('Teacher:', flush=True)
    teacher_dir = osp.join(args.work_dir, 'teacher')
    tic = time.time()
    if args.retrain_teacher or not osp.isfile(osp.join(ROOT, TEACHER_CKPT)):
        last = train(TEACHER_CFG, teacher_dir)
        run(['tools/model_converters/publish_model.py', last, TEACHER_CKPT],
            osp.join(teacher_dir, 'publish.log'))
        shutil.copy(
            sorted(glob.glob(osp.join(teacher_dir, '*', '*.log')))[0],
            TEACHER_CKPT.replace('.pth', '.log'))
        source = 'trained now'
    else:
        os.makedirs(teacher_dir, exist_ok=True)
        source = f'reused {TEACHER_CKPT}'
    acc = test(TEACHER_CFG, TEACHER_CKPT, teacher_dir)
    rows.append(('teacher ViT (full train split)', acc, time.time() - tic,
                 source))

    jobs = [] if args.teacher_only else [
        ('student alone (10% subset)', STUDENT_CFG, 'student'),
        ('logit KD student (10% subset)', KD_CFG, 'kd'),
        ('CAKD student (10% subset)', CAKD_CFG, 'cakd'),
    ]
    for name, config, sub in jobs:
        if not osp.isfile(osp.join(ROOT, config)):
            continue
        print(f'{name}:', flush=True)
        tic = time.time()
        work_dir = osp.join(args.work_dir, sub)
        acc = test(config, train(config, work_dir), work_dir)
        rows.append((name, acc, time.time() - tic, 'trained now'))

    print('\nFashion-MNIST test accuracy (10,000 images)')
    print(f'| {"model":34} | top-1 (%) | time (s) | weights |')
    print(f'|{"-" * 36}|-----------|----------|---------|')
    for name, acc, seconds, source in rows:
        print(f'| {name:34} | {acc:9.2f} | {seconds:8.0f} | {source} |')
    print(f'Total: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
