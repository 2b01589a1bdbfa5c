"""The main job: the teacher, then the student alone, logit KD and CAKD in
the regime where a teacher matters (few labels, many unlabelled images).

    python tools/demo.py [--retrain-teacher] [--teacher-only] [--work-dir DIR]

1. The ViT teacher: the committed checkpoint (checkpoints/) is reused when
   present; otherwise (or with --retrain-teacher) it is trained with
   configs/teachers/vit-tiny_fashion-mnist.py on the full training split,
   and evaluated on the 10,000 test images.
2. Seed 0 of the unlabelled regime's student alone, logit KD and CAKD
   (configs/benchmarks/demo.py): 1% of the training images keep their
   labels, the distillers consult the teacher on all 55,000. Run by the
   benchmark's runner (tools/benchmarks/fashion_mnist.py), which prints each
   run's epoch, validation accuracy and ETA as it trains, evaluates it on the
   clean and corrupted test sets, and ends with the table and a chart
   (``<work-dir>/results.md`` and ``results.png``).
Every run goes through tools/train.py, tools/test.py and
tools/analysis_tools/robustness.py, in subprocesses, as a user would run
them. A second call starts the students afresh.
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
DEMO_CFG = 'configs/benchmarks/demo.py'


def run(args: list, log: str) -> None:
    """Run a tool of this repository; its output goes to ``log``."""
    with open(log, 'a') as f:
        proc = subprocess.run([sys.executable] + args, cwd=ROOT, stdout=f,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-20:])
        raise SystemExit(f'{" ".join(args)} failed (log: {log}):\n{tail}')


def teacher(work_dir: str, retrain: bool) -> None:
    """Reuse or train the teacher, and print its test accuracy."""
    teacher_dir = osp.join(work_dir, 'teacher')
    os.makedirs(teacher_dir, exist_ok=True)
    tic = time.time()
    if retrain or not osp.isfile(osp.join(ROOT, TEACHER_CKPT)):
        print(f'Teacher: training {TEACHER_CFG} (log: {teacher_dir}/'
              'train.log)', flush=True)
        run(['tools/train.py', TEACHER_CFG, '--work-dir', teacher_dir],
            osp.join(teacher_dir, 'train.log'))
        with open(osp.join(teacher_dir, 'last_checkpoint')) as f:
            last = f.read().strip()
        run(['tools/model_converters/publish_model.py', last, TEACHER_CKPT],
            osp.join(teacher_dir, 'publish.log'))
        shutil.copy(
            sorted(glob.glob(osp.join(teacher_dir, '*', '*.log')))[0],
            TEACHER_CKPT.replace('.pth', '.log'))
        source = 'trained now'
    else:
        source = f'reused {TEACHER_CKPT}'
    test_dir = osp.join(teacher_dir, 'test')
    run(['tools/test.py', TEACHER_CFG, TEACHER_CKPT, '--work-dir', test_dir],
        osp.join(teacher_dir, 'test.log'))
    latest = sorted(glob.glob(osp.join(test_dir, '*', 'metrics.json')))[-1]
    with open(latest) as f:
        acc = json.load(f)['accuracy/top1']
    print(f'Teacher ViT: {acc:.2f}% test top-1 ({source}, '
          f'{time.time() - tic:.0f} s)', flush=True)


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
    start = time.time()
    teacher(args.work_dir, args.retrain_teacher)
    if args.teacher_only:
        return
    runs = osp.join(ROOT, args.work_dir, 'runs')
    if osp.isdir(runs):
        shutil.rmtree(runs)
    print('Students: 1% of the labels, the teacher consulted on every image',
          flush=True)
    proc = subprocess.run(
        [sys.executable, 'tools/benchmarks/fashion_mnist.py', DEMO_CFG,
         '--out-dir', args.work_dir], cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)
    print(f'Total: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
