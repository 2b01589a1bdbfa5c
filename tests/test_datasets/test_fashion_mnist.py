import numpy as np
import pytest

from mmcakd.datasets import FashionMNISTSplit, balanced_split


def build(data_root, **kwargs):
    return FashionMNISTSplit(data_root=data_root, pipeline=[], **kwargs)


def labels_of(dataset):
    return np.array([int(dataset.get_data_info(i)['gt_label'])
                     for i in range(len(dataset))])


def test_test_split_reads_the_10k_test_images(data_root):
    test = build(data_root, split='test')
    train = build(data_root, split='train', val_per_class=0)
    assert len(test) == 10000
    assert len(train) == 60000
    # The test images are not the first training images (mmpretrain's trap:
    # split='test' without test_mode returns the training set).
    assert not np.array_equal(test.get_data_info(0)['img'],
                              train.get_data_info(0)['img'])
    assert np.bincount(labels_of(test)).tolist() == [1000] * 10


def test_val_split_is_held_apart_and_balanced(data_root):
    train = build(data_root, split='train')
    val = build(data_root, split='val')
    assert len(val) == 5000 and len(train) == 55000
    assert np.bincount(labels_of(val)).tolist() == [500] * 10
    # No image is in both: compare raw bytes of every image.
    train_bytes = {train.get_data_info(i)['img'].tobytes()
                   for i in range(len(train))}
    shared = sum(val.get_data_info(i)['img'].tobytes() in train_bytes
                 for i in range(len(val)))
    # Fashion-MNIST has a handful of exact duplicate images; allow those.
    assert shared < 10


def test_subset_is_balanced_deterministic_and_seeded(data_root):
    a = build(data_root, split='train', fraction=0.1, seed=0)
    b = build(data_root, split='train', fraction=0.1, seed=0)
    c = build(data_root, split='train', fraction=0.1, seed=1)
    assert len(a) == 5500
    assert np.bincount(labels_of(a)).tolist() == [550] * 10
    img = lambda d, i: d.get_data_info(i)['img']  # noqa: E731
    assert all(np.array_equal(img(a, i), img(b, i)) for i in range(0, 5500, 50))
    assert not all(
        np.array_equal(img(a, i), img(c, i)) for i in range(0, 5500, 50))


def test_balanced_split_nests_smaller_fractions():
    labels = np.repeat(np.arange(3), 100)
    small = balanced_split(labels, 10, 0.1, seed=3)
    large = balanced_split(labels, 10, 0.5, seed=3)
    assert set(small['train']) <= set(large['train'])
    assert not set(large['train']) & set(large['val'])
    assert np.bincount(labels[large['train']]).tolist() == [45] * 3


@pytest.mark.parametrize('fraction', [0, -0.1, 1.5, 'half'])
def test_fraction_out_of_range_names_the_field(data_root, fraction):
    with pytest.raises(ValueError, match='fraction'):
        build(data_root, split='train', fraction=fraction)


def test_missing_dataset_names_package_and_converter(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        build(str(tmp_path), split='train')
    message = str(err.value)
    assert 'apt-get install -y dataset-fashion-mnist' in message
    assert 'prepare_fashion_mnist.py' in message
    assert '\n' not in message
