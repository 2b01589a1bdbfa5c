"""tools/misc/step_digest.py: the same row gives the same digests twice
(runs are deterministic), and a changed option changes them."""
import json

from ..conftest import PYTHON, ROOT, run_tool

TOOL = 'tools/misc/step_digest.py'
BENCH = 'configs/benchmarks/fashion_mnist_unlabelled.py'


def test_digests_repeat_and_tell_rows_apart(tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f'{i}.json'
        run_tool([PYTHON, TOOL, BENCH, '--methods', 'kd', 'kd_views',
                  '--steps', '1', '--out', str(out)])
        outs.append(json.loads(out.read_text()))
    assert outs[0] == outs[1]
    kd, views = outs[0]['kd'], outs[0]['kd_views']
    assert 'student.head.fc.weight' in kd['state_dict']
    assert {'loss_cls', 'loss_kd', 'num_labelled'} <= set(kd['logs'][0])
    assert kd['logs'][0]['num_labelled'] < 16  # a third unlabelled
    assert kd['state_dict'] != views['state_dict']
