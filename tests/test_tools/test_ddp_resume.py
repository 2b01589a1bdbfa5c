"""DDP reliability (issue 20): a 2-process run killed with SIGKILL mid-epoch
and resumed ends where the uninterrupted 2-process run ends (item 6), and two
node groups of one process each, started through tools/dist_train.sh, train
what one node with two processes trains (item 9)."""
import os
import signal
import subprocess
import time

import torch

from ..conftest import PYTHON, ROOT, free_port, run_tool
from .test_cakd_tools import CAKD
from .test_exact_resume import last_iter

# 220 images, 110 a rank at batch 22: 5 iterations an epoch. Every random part
# of CAKD stays on (views, PCA substitution, GL dropout; D every 3 steps). The
# model's streams (views, PCA) differ between ranks (rank r > 0 draws from
# hash(seed, r, draw count)) but are deterministic for each rank, so a resume must restore rank 1's as well as
# rank 0's, and two nodes of one process equal one node of two.
TINY = [
    'train_dataloader.dataset.fraction=0.004',
    'train_dataloader.batch_size=22', 'train_dataloader.num_workers=1',
    'val_dataloader.num_workers=0', 'val_dataloader.dataset.val_per_class=5',
    'model.mrt.d_interval=3', 'default_hooks.checkpoint.save_best=None',
    'default_hooks.checkpoint.max_keep_ckpts=20'
]
PER_EPOCH = 5
# Two epochs, a checkpoint every iteration (the kill lands in epoch 2).
RESUME_OPTIONS = [
    'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
    'default_hooks.checkpoint.by_epoch=False',
    'default_hooks.checkpoint.interval=1', *TINY
]
# One epoch, one checkpoint at its end.
NODES_OPTIONS = [
    'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
    'default_hooks.checkpoint.interval=1', *TINY
]
ENV = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
           PYTHON=PYTHON)


def dist_train(work_dir, nproc, options, *extra):
    return ['bash', 'tools/dist_train.sh', CAKD, str(nproc), '--work-dir',
            str(work_dir), *extra, '--cfg-options', *options]


def descendants(pid: int) -> list:
    """The live processes under ``pid``, from ``/proc`` (Linux)."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != 'Z':
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def kill_everything(proc: subprocess.Popen) -> int:
    """SIGKILL dist_train.sh, torchrun, its workers and their data workers;
    return how many process groups that was.

    torchrun starts each worker in a session of its own, so killing the
    launcher's process group alone leaves the workers training on.
    """
    tree = [proc.pid] + descendants(proc.pid)
    groups = []
    for pid in tree:
        try:
            groups.append(os.getpgid(pid))
        except ProcessLookupError:
            pass
    for group in dict.fromkeys(groups):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    deadline = time.time() + 60
    while any(alive(pid) for pid in tree):
        assert time.time() < deadline, 'a killed process lives on'
        time.sleep(0.05)
    return len(set(groups))


def assert_same_checkpoint(path_a, path_b, iteration, rtol=1e-6, atol=1e-7):
    a = torch.load(path_a, weights_only=True)
    b = torch.load(path_b, weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == iteration
    assert set(a['state_dict']) == set(b['state_dict'])
    for key, value in a['state_dict'].items():
        if value.is_floating_point():
            assert torch.allclose(value, b['state_dict'][key], rtol=rtol,
                                  atol=atol), key
        else:
            assert torch.equal(value, b['state_dict'][key]), key
    assert set(a['optimizer']) == set(b['optimizer']) == {
        'student', 'discriminator'}
    for part in ('student', 'discriminator'):
        x_state = a['optimizer'][part]['state']
        y_state = b['optimizer'][part]['state']
        assert x_state and set(x_state) == set(y_state), part
        for index, x in x_state.items():
            assert set(x) == set(y_state[index]), (part, index)
            for name in x:
                assert torch.allclose(torch.as_tensor(x[name]),
                                      torch.as_tensor(y_state[index][name]),
                                      rtol=rtol, atol=atol), (part, index,
                                                              name)


def test_ddp_killed_mid_epoch_resumes_to_the_same_weights(tmp_path,
                                                          data_root):
    last = 2 * PER_EPOCH
    whole = tmp_path / 'whole'
    run_tool(dist_train(whole, 2, RESUME_OPTIONS),
             env=dict(PYTHON=PYTHON, PORT=free_port()))

    # The same run, killed for real (launcher, torchrun and both workers at
    # once, no handler, no clean-up) once iteration 6 (epoch 2's first) is
    # saved.
    killed = tmp_path / 'killed'
    proc = subprocess.Popen(
        dist_train(killed, 2, RESUME_OPTIONS), cwd=ROOT,
        env=dict(ENV, PORT=free_port()), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while last_iter(killed) < PER_EPOCH + 1 and proc.poll() is None:
        assert time.time() < deadline, 'the run did not reach iteration 6'
        time.sleep(0.01)
    assert proc.poll() is None, 'the run ended before iteration 6'
    # The launcher's group and one group per worker.
    assert kill_everything(proc) == 3
    assert proc.returncode == -signal.SIGKILL
    resumed_from = last_iter(killed)
    assert resumed_from % PER_EPOCH, 'killed at an epoch boundary; the test ' \
        'wants mid-epoch'
    assert not (killed / f'iter_{last}.pth').exists()

    out = run_tool(dist_train(killed, 2, RESUME_OPTIONS, '--resume'),
                   env=dict(PYTHON=PYTHON, PORT=free_port()))
    done = resumed_from % PER_EPOCH
    assert f'Resuming epoch 2 after its first {done} iterations' in \
        out.stdout + out.stderr

    assert_same_checkpoint(whole / f'iter_{last}.pth',
                           killed / f'iter_{last}.pth', last)


def test_two_nodes_train_as_one_node_with_two_processes(tmp_path, data_root):
    one = tmp_path / 'one_node'
    run_tool(dist_train(one, 2, NODES_OPTIONS),
             env=dict(PYTHON=PYTHON, PORT=free_port()))

    # Two node groups of one process each on this machine; each node has its
    # own work_dir, as on machines without a shared disk.
    port = free_port()
    nodes = [tmp_path / f'node{rank}' for rank in (0, 1)]
    procs = [
        subprocess.Popen(
            dist_train(nodes[rank], 1, NODES_OPTIONS), cwd=ROOT,
            env=dict(ENV, NNODES='2', NODE_RANK=str(rank),
                     MASTER_ADDR='127.0.0.1', PORT=port),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True) for rank in (0, 1)
    ]
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=300)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_everything(proc)
    for rank, (proc, text) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f'node {rank}:\n{text[-5000:]}'
    # One world of two ranks (110 images each), not two worlds of one.
    assert 'GPU number: 2' in outputs[0]
    assert f'Epoch(train) [1][{PER_EPOCH}/{PER_EPOCH}]' in outputs[0]

    # Rank 0 (node 0) alone writes checkpoints.
    assert (nodes[0] / 'epoch_1.pth').exists()
    assert not list(nodes[1].glob('*.pth'))
    assert_same_checkpoint(one / 'epoch_1.pth', nodes[0] / 'epoch_1.pth',
                           PER_EPOCH)
