"""--resume without a path: which checkpoint the run starts from."""
import pytest
import torch
from mmengine.config import Config

from mmcakd.utils.resume import resolve_start_checkpoint


def run_checkpoint(path, epoch):
    torch.save({'meta': {'epoch': epoch}, 'state_dict': {},
                'message_hub': {}}, path)


def config(work_dir):
    return Config(dict(work_dir=str(work_dir), resume=True, load_from=None))


def test_an_empty_last_checkpoint_falls_back_to_the_newest_file(tmp_path):
    run_checkpoint(tmp_path / 'epoch_1.pth', 1)
    run_checkpoint(tmp_path / 'epoch_2.pth', 2)
    (tmp_path / 'last_checkpoint').write_text('')  # a crash while writing
    cfg = config(tmp_path)
    assert resolve_start_checkpoint(cfg)['meta']['epoch'] == 2
    assert cfg.load_from == str(tmp_path / 'epoch_2.pth')


def test_a_corrupt_latest_falls_back_with_a_warning(tmp_path):
    run_checkpoint(tmp_path / 'iter_4.pth', 1)
    (tmp_path / 'iter_8.pth').write_bytes(b'PK\x03\x04 cut')
    (tmp_path / '.iter_12.pth.abc.part').write_bytes(b'half')  # ignored
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_8.pth'))
    cfg = config(tmp_path)
    with pytest.warns(UserWarning, match='iter_8.pth cannot be read.*'
                      'resuming from .*iter_4.pth'):
        resolve_start_checkpoint(cfg)
    assert cfg.load_from == str(tmp_path / 'iter_4.pth')


def test_nothing_valid_to_resume_is_one_error(tmp_path):
    (tmp_path / 'epoch_1.pth').write_text('not a checkpoint')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    with pytest.raises(ValueError, match='holds no valid checkpoint'):
        resolve_start_checkpoint(config(tmp_path))


def test_an_empty_work_dir_starts_afresh(tmp_path):
    cfg = config(tmp_path)
    assert resolve_start_checkpoint(cfg) is None and cfg.load_from is None
