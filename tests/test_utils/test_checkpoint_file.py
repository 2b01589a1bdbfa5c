"""A teacher's weights given by URL are downloaded once, with a progress
bar: by the first process of the machine, while the others wait."""
import os
import os.path as osp

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmcakd.utils import checkpoint_file
from mmcakd.utils.checkpoint_file import load_checkpoint_file

from ..conftest import ROOT, free_port

TEACHER = osp.join(ROOT, 'checkpoints', 'vit-tiny_fashion-mnist.pth')
URL = f'file://{TEACHER}'


def test_a_url_is_downloaded_once_with_progress(tmp_path, monkeypatch,
                                                 capsys):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    first = load_checkpoint_file(URL, 'teacher_ckpt')
    err = capsys.readouterr().err
    assert f'Downloading {URL}' in err and '100%' in err
    second = load_checkpoint_file(URL, 'teacher_ckpt')
    assert 'Downloading' not in capsys.readouterr().err
    assert first['state_dict'].keys() == second['state_dict'].keys()
    cached = tmp_path / 'hub' / 'checkpoints' / osp.basename(TEACHER)
    assert cached.read_bytes() == open(TEACHER, 'rb').read()


def _worker(rank: int, port: str, home: str, out: str) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=port,
                      LOCAL_RANK=str(rank), TORCH_HOME=home)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    calls = []
    download = torch.hub.download_url_to_file

    def counting(*args, **kwargs):
        calls.append(rank)
        return download(*args, **kwargs)

    torch.hub.download_url_to_file = counting
    state = checkpoint_file.load_checkpoint_file(URL, 'teacher_ckpt')
    with open(osp.join(out, f'rank{rank}'), 'w') as f:
        f.write(f'{len(calls)} {len(state["state_dict"])}')
    dist.barrier()
    dist.destroy_process_group()


def test_two_processes_download_once(tmp_path):
    mp.spawn(_worker, args=(free_port(), str(tmp_path / 'home'),
                            str(tmp_path)), nprocs=2)
    downloads = [int((tmp_path / f'rank{r}').read_text().split()[0])
                 for r in (0, 1)]
    assert downloads == [1, 0]
    sizes = {(tmp_path / f'rank{r}').read_text().split()[1] for r in (0, 1)}
    assert len(sizes) == 1
