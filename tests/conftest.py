import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA_ROOT = osp.join(ROOT, 'data', 'fashion_mnist')


@pytest.fixture(scope='session')
def data_root() -> str:
    """The prepared Fashion-MNIST folder (``make test`` prepares it)."""
    if not osp.isfile(osp.join(DATA_ROOT, 't10k-images-idx3-ubyte')):
        pytest.fail('Fashion-MNIST is not prepared: run `make data` first')
    return DATA_ROOT


def run_tool(args, cwd: str = ROOT, timeout: int = 600,
             env: dict = None) -> subprocess.CompletedProcess:
    """Run ``args`` (a tool of this repository) and fail with its output."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    full_env.update(env or {})
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True,
        timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(map(str, args))} exited {proc.returncode}:'
                    f'\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


PYTHON = sys.executable


def copy_checkout(dst) -> None:
    """The repository's files (tracked, and new ones not ignored) without
    benchmarks/ and checkpoints/, copied to ``dst``: building a
    wheel or an sdist rewrites mmcakd/.mim as copies, which must not happen
    in the checkout itself (its .mim holds symlinks)."""
    import shutil
    names = subprocess.run(
        ['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT,
        capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        src = osp.join(ROOT, name)
        if name.startswith(('benchmarks/', 'checkpoints/')) \
                or not osp.isfile(src):
            continue
        os.makedirs(osp.join(dst, osp.dirname(name)), exist_ok=True)
        shutil.copyfile(src, osp.join(dst, name))


def free_port() -> str:
    """A TCP port nobody listens on now, for torchrun's rendezvous."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])
