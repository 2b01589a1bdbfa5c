"""Step cost of a distiller against its limit, measured side by side.

    python tools/cpu_bench/benchmark_step.py CONFIG [CONFIG ...]
        [--batch-size 8] [--input-size 224] [--rounds 10] [--warmup 3]
        [--accel k=v ...] [--ablate k=v ...] [--no-memory] [--out FILE.json]
        [--train-log WORK_DIR] [--cfg-options k=v ...]

In one process, on the same batches and alternating round by round, it
times (medians):
  - student step: the student alone, an mmpretrain train step (SGD);
  - teacher forward: the teacher under torch.no_grad();
  - distiller step: the config's distiller train step (all its parts), for
    CAKD or any baseline (configs/{kd,dkd,fitnet,rkd,ofa}/...).
The limit is student step + teacher forward: no distillation can cost less
when done the plain way. It prints distiller / limit and distiller / student
step, the minor page faults of each step (median), and the same ratios for
peak memory, each measured in a fresh subprocess (peak RSS growth over the
process after start-up, Linux only) so that one measurement cannot inflate
another. The output names the CPU (model, vector unit, native bf16),
which decides what the switches can do.
Several configs (same teacher and student, e.g. one per method) are timed
side by side in the same rounds; the student and teacher of the first are
the references, and each distiller is named by its config's folder
(``cakd``, ``kd`` ...). ``--cfg-options`` applies to every config.
Every distiller runs plain (eager fp32 teacher under no_grad, the speed
switches of ``model.accel`` off); ``--accel`` adds an accelerated twin of
each, ``<name>+accel``, with those switches (e.g. ``--accel
teacher_dtype=bf16 channels_last=True``).
``--ablate k=v ...`` adds, per pair, one more twin of each with the
``--accel`` switches but ``k`` set to ``v`` (``<name>+accel,k=v``): what one
switch is worth, measured in the same rounds (e.g. ``--ablate
attention=sdpa``). The method's hand-written pieces are ablated the same
way, each against its plain torch expression (``--ablate bernoulli=plain
substitution=plain pca_layout=plain``, ``tools/cpu_bench/plain_pieces.py``).
``keep_cpu_memory`` is process-wide: with it in ``--accel``, every row, the
limit included, and every memory probe run with it (the output says so),
which lowers the limit too. The other switches act on the accelerated rows
only (the limit is the plain way by definition).
``--device cuda`` (the default where a GPU is present) runs every part on
the GPU: each timing is taken between ``torch.cuda.synchronize()`` calls,
and the memory figures are each probe's peak of allocated CUDA memory
(``torch.cuda.max_memory_allocated``) instead of its RSS; the output names
the GPU.
The teacher's weights are not needed for timing: teacher_ckpt is ignored.
``--train-log`` reads a real ``tools/train.py`` run's logged scalars
(``<work_dir>/<timestamp>/vis_data/scalars.json``) and reports how long a
step waited for data (mmengine's ``data_time``) against the whole step
(``time``): data loading is the bottleneck when that share is large.
"""
import argparse
import glob
import json
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from mmcakd.cpu import memory as cpu_memory
from mmcakd.models.distillers import build_classifier
from mmcakd.models.teachers import build_teacher_reader
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from plain_pieces import PIECES, plain  # noqa: E402

PARTS = ('student', 'teacher', 'distiller')
# The distiller's speed switches all off: the plain step.
PLAIN = dict(channels_last=False, inference_mode=False, teacher_dtype=None,
             keep_cpu_memory=False, attention='sdpa')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='+')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--input-size', type=int, help='image side; default: the '
        "teacher's input size")
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'],
        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--accel', nargs='+', action=DictAction,
        help='also time each distiller with these model.accel switches')
    parser.add_argument(
        '--ablate', nargs='+', action=DictAction,
        help='with --accel: also time each distiller with the --accel '
        'switches but one changed, one row per k=v; PIECE=plain times a '
        'piece of the method in its plain torch form (plain_pieces.py)')
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument(
        '--train-log', help="a tools/train.py work_dir: report its steps' "
        'data_time against time')
    parser.add_argument('--out', help='write the results as JSON')
    # Used by the memory probes, which run one part each in a subprocess.
    parser.add_argument('--only', choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument(
        '--index', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        '--input-shape', type=int, nargs=3, help=argparse.SUPPRESS)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.ablate and not args.accel:
        parser.error('--ablate changes one of the --accel switches: give '
                     '--accel too')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: this torch sees no GPU')
    for key, value in (args.ablate or {}).items():
        if key in PIECES and value != 'plain':
            parser.error(f'--ablate {key}={value}: a piece of the method '
                         f'is ablated as {key}=plain')
    if 'keep_cpu_memory' in (args.ablate or {}):
        parser.error('--ablate keep_cpu_memory: it is process-wide, so no '
                     'row can differ in it; compare two runs instead')
    return args


class Bench:
    """The three workloads, built from one config, on shared batches."""

    def __init__(self, args: argparse.Namespace, config: str,
                 accel: Optional[dict] = None,
                 pieces: Tuple[str, ...] = ()) -> None:
        # The method's pieces swapped for their plain form in this row.
        self.pieces = pieces
        register_all_modules()
        cfg = Config.fromfile(config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        model_cfg = model_config(cfg)
        model_cfg.teacher_ckpt = None
        # The 'auto' defaults are those of the device timed.
        model_cfg.accel = dict(PLAIN, device=args.device, **(accel or {}))
        model_cfg.setdefault('data_preprocessor', {})
        if args.input_shape:  # a memory probe: the parent's shape
            model_cfg.input_size = tuple(args.input_shape)
        elif args.input_size:
            channels = model_cfg.get('input_size', (None, ))[0]
            if channels is None:
                teacher = build_classifier(model_cfg.teacher, 'teacher')
                channels = build_teacher_reader(teacher).input_size()[0]
            model_cfg.input_size = (channels, args.input_size,
                                    args.input_size)
        torch.manual_seed(0)
        self.cfg = cfg
        self.model_cfg = model_cfg
        self.args = args

    def build(self, part: Optional[str]) -> None:
        """Build ``part`` (all three when None) and the shared batch.

        A memory probe builds its own part only (plus the data
        preprocessor), with the input shape handed over by the parent, so
        that nothing else inflates its peak.
        """
        torch.manual_seed(0)
        shape = self.args.input_shape
        device = self.args.device
        if part in ('distiller', None):
            self.distiller = MODELS.build(self.model_cfg).train().to(device)
            self.wrappers = build_optim_wrapper(self.distiller,
                                                self.cfg.optim_wrapper)
            shape = shape or self.distiller.resolve_input_size(
                self.model_cfg.get('input_size'))
        self.shape = tuple(shape)
        preprocessor = dict(self.model_cfg.data_preprocessor)
        preprocessor.setdefault('type', 'ClsDataPreprocessor')
        preprocessor = MODELS.build(preprocessor).to(device)
        if part in ('student', None):
            self.student = build_classifier(self.model_cfg.student,
                                            'student').train().to(device)
            self.student.data_preprocessor = preprocessor
            self.student_wrapper = build_optim_wrapper(
                self.student, dict(self.cfg.optim_wrapper.student))
        if part in ('teacher', None):
            self.teacher = build_classifier(self.model_cfg.teacher,
                                            'teacher').eval().to(device)
            self.teacher.requires_grad_(False)
        g = torch.Generator().manual_seed(0)
        self.data = dict(
            inputs=[torch.randint(0, 256, self.shape, generator=g,
                                  dtype=torch.uint8)
                    for _ in range(self.args.batch_size)],
            data_samples=[DataSample().set_gt_label(i % 10)
                          for i in range(self.args.batch_size)])
        self.inputs = preprocessor(self.data, True)['inputs']

    def step(self, part: str) -> None:
        with plain(self.pieces if part == 'distiller' else ()):
            self._step(part)

    def _step(self, part: str) -> None:
        if part == 'student':
            self.student.train_step(self.data, self.student_wrapper)
        elif part == 'teacher':
            with torch.no_grad():
                self.teacher(self.inputs, mode='tensor')
        else:
            self.distiller.train_step(self.data, self.wrappers)


def synchronize(device: str) -> None:
    """Wait for the GPU's queued work, so that a timing covers it."""
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(bench: Bench, part: str) -> Tuple[float, int]:
    """Seconds and minor page faults of one step."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    synchronize(bench.args.device)
    tic = time.perf_counter()
    bench.step(part)
    synchronize(bench.args.device)
    return (time.perf_counter() - tic,
            resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)


def proc_status_kib(field: str) -> int:
    """A memory field of /proc/self/status, in KiB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def peak_rss_growth(argv: list, part: str, shape: tuple,
                    index: int = 0) -> float:
    """Peak RSS growth (MiB) of a fresh process running ``part`` only (the
    distiller of config ``index``); with ``--device cuda``, its peak of
    allocated CUDA memory."""
    out = subprocess.run(
        [sys.executable, __file__, *argv, '--only', part, '--index',
         str(index), '--input-shape', *map(str, shape)],
        capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def _same_model(a, b) -> bool:
    """Two teacher/student entries of configs describe the same model."""
    if isinstance(a, str) and isinstance(b, str) and '::' not in a:
        return osp.realpath(a) == osp.realpath(b)
    return a == b


def labels_of(configs: list) -> list:
    """A distiller's name: its config's folder (``cakd``, ``kd`` ...), or
    the path when two configs share a folder."""
    names = [osp.basename(osp.dirname(osp.abspath(c))) for c in configs]
    return names if len(set(names)) == len(names) else list(configs)


def data_wait(work_dir: str) -> dict:
    """Median ``data_time`` and ``time`` (s) of the logged training steps
    of a ``tools/train.py`` run (its latest timestamp folder)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'--train-log {work_dir!r}: no '
                                '<timestamp>/vis_data/scalars.json in it')
    data, step = [], []
    with open(logs[-1]) as f:
        for line in f:
            entry = json.loads(line)
            if 'data_time' in entry and 'loss' in entry:
                data.append(entry['data_time'])
                step.append(entry['time'])
    if not step:
        raise ValueError(f'--train-log {logs[-1]!r}: no training step '
                         'logged')
    result = dict(data_time=statistics.median(data),
                  time=statistics.median(step), logged_steps=len(step))
    result['data_share'] = result['data_time'] / result['time']
    return result


def accel_variants(args: argparse.Namespace) -> list:
    """(row suffix, accel switches, plain pieces): ``--accel``, then one
    per ``--ablate`` pair (an accel switch changed, or one of the method's
    pieces in its plain form)."""
    if not args.accel:
        return []
    return [('+accel', args.accel, ())] + [
        (f'+accel,{key}={value}',
         args.accel if key in PIECES else dict(args.accel, **{key: value}),
         (key, ) if key in PIECES else ())
        for key, value in (args.ablate or {}).items()
    ]


def machine(device: str = 'cpu') -> dict:
    """The CPU the timings depend on: its model, the widest vector unit
    torch uses and whether it has native bf16 (without it,
    ``teacher_dtype='bf16'`` falls back to fp32); with ``device='cuda'``
    the GPU's name too."""
    model = platform.processor()
    if osp.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            model = next((line.split(':', 1)[1].strip() for line in f
                          if line.startswith('model name')), model)
    info = dict(
        cpu=model,
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        cpu_native_bf16=bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()))
    if device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
    return info


def entries(args: argparse.Namespace) -> list:
    """One bench per config, then a twin of each per accel variant."""
    return [Bench(args, config) for config in args.config] + [
        Bench(args, config, accel, pieces)
        for _, accel, pieces in accel_variants(args)
        for config in args.config
    ]


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if (args.accel or {}).get('keep_cpu_memory'):
        # Process-wide: switch it on before anything is built, here and in
        # each memory probe, so that every row and every memory figure runs
        # with the same allocator.
        cpu_memory.keep_freed_memory()
    if args.only:
        # Memory probe: reset the RSS high-water mark after start-up (Linux
        # clear_refs 5), build and run the part, read the new peak.
        bench = entries(args)[args.index]
        if args.device == 'cuda':
            # The part's own peak of allocated GPU memory.
            torch.cuda.reset_peak_memory_stats()
            bench.build(args.only)
            for _ in range(3):
                bench.step(args.only)
            torch.cuda.synchronize()
            print(torch.cuda.max_memory_allocated() / 2**20)
            return
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        base = proc_status_kib('VmRSS')
        bench.build(args.only)
        for _ in range(3):
            bench.step(args.only)
        print((proc_status_kib('VmHWM') - base) / 1024)
        return

    benches = entries(args)
    ref = benches[0]
    for config, bench in zip(args.config[1:], benches[1:len(args.config)]):
        for side in ('teacher', 'student'):
            if not _same_model(bench.model_cfg[side], ref.model_cfg[side]):
                raise ValueError(f'{config}: its {side} differs from that of '
                                 f'{args.config[0]}; configs timed side by '
                                 'side must share teacher and student')
    ref.build(None)
    for bench in benches[1:]:
        bench.build('distiller')
    single = len(benches) == 1
    names = ['distiller'] if single else labels_of(args.config)
    names = names + [f'{name}{suffix}'
                     for suffix, _, _ in accel_variants(args)
                     for name in names]
    # (name, bench, part): the reference student and teacher, then every
    # distiller, alternating within each round.
    parts = [('student', ref, 'student'), ('teacher', ref, 'teacher')] + [
        (name, bench, 'distiller') for name, bench in zip(names, benches)
    ]
    for _ in range(args.warmup):
        for _, bench, part in parts:
            bench.step(part)
    times = {name: [] for name, _, _ in parts}
    faults = {name: [] for name, _, _ in parts}
    for _ in range(args.rounds):
        for name, bench, part in parts:
            seconds, page_faults = timed(bench, part)
            times[name].append(seconds)
            faults[name].append(page_faults)
    median = {name: statistics.median(t) for name, t in times.items()}
    median_faults = {name: int(statistics.median(f))
                     for name, f in faults.items()}
    limit = median['student'] + median['teacher']

    def per_method(values: dict, denominator: float) -> dict:
        ratios = {n: round(values[n] / denominator, 3) for n in names}
        return ratios['distiller'] if single else ratios

    result = dict(
        config=args.config[0] if single else args.config,
        accel=args.accel,
        ablate=args.ablate,
        batch_size=args.batch_size,
        input_size=list(ref.inputs.shape[1:]),
        threads=args.threads,
        device=args.device,
        machine=machine(args.device),
        rounds=args.rounds,
        # Process-wide, so it holds for every row, the limit included.
        keep_cpu_memory=cpu_memory.is_applied(),
        seconds={k: round(v, 4)
                 for k, v in median.items()},
        # Minor page faults per step: glibc maps big blocks afresh each
        # step unless keep_cpu_memory is on.
        page_faults=median_faults,
        time_ratio=per_method(median, limit),
        time_ratio_student=per_method(median, median['student']))
    print(f'{", ".join(args.config)}: batch {args.batch_size}, input '
          f'{tuple(ref.inputs.shape[1:])}, {args.threads} threads, '
          f'median of {args.rounds} rounds')
    hw = result['machine']
    print(f'  {hw["cpu"]} ({hw["cpu_capability"]}, native bf16: '
          f'{"yes" if hw["cpu_native_bf16"] else "no"})'
          + (f', on {hw["gpu"]}' if 'gpu' in hw else ''))
    if result['keep_cpu_memory']:
        print('  keep_cpu_memory is on for the whole process: every row, '
              'the limit included, ran with it')
    print(f'  student step     {median["student"] * 1e3:9.1f} ms   '
          f'{median_faults["student"]} page faults')
    print(f'  teacher forward  {median["teacher"] * 1e3:9.1f} ms   '
          f'{median_faults["teacher"]} page faults')
    print(f'  limit (sum)      {limit * 1e3:9.1f} ms')
    for name in names:
        label = 'distiller step' if single else f'{name} step'
        print(f'  {label:<16} {median[name] * 1e3:9.1f} ms   '
              f'/ limit {median[name] / limit:.3f}   '
              f'/ student {median[name] / median["student"]:.3f}   '
              f'{median_faults[name]} page faults')
    if single:
        print(f'  time ratio distiller / limit: {result["time_ratio"]:.3f}')
    if not args.no_memory:
        mem = {
            'student': peak_rss_growth(argv, 'student', ref.shape),
            'teacher': peak_rss_growth(argv, 'teacher', ref.shape),
        }
        for i, (name, bench) in enumerate(zip(names, benches)):
            mem[name] = peak_rss_growth(argv, 'distiller', bench.shape, i)
        key = ('peak_cuda_memory_mib' if args.device == 'cuda' else
               'peak_rss_growth_mib')
        result[key] = {k: round(v, 1) for k, v in mem.items()}
        result['memory_ratio'] = per_method(
            mem, mem['student'] + mem['teacher'])
        result['memory_ratio_student'] = per_method(mem, mem['student'])
        what = ('peak CUDA memory' if args.device == 'cuda' else
                'peak RSS growth')
        print(f'  {what}: ' + ', '.join(
            f'{k} {v:.0f} MiB' for k, v in mem.items()))
        for name in names:
            label = 'distiller' if single else name
            print(f'  memory ratio {label} / (student + teacher): '
                  f'{mem[name] / (mem["student"] + mem["teacher"]):.3f}'
                  f'   / student: {mem[name] / mem["student"]:.3f}')
    if args.train_log:
        wait = data_wait(args.train_log)
        result['train_log'] = dict(work_dir=args.train_log, **wait)
        print(f'  {args.train_log}: a step waited '
              f'{wait["data_time"] * 1e3:.1f} ms for data out of '
              f'{wait["time"] * 1e3:.1f} ms '
              f'({100 * wait["data_share"]:.1f}%, median of '
              f'{wait["logged_steps"]} logged steps)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)

if __name__ == '__main__':
    main()
