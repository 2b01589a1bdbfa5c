"""Registries of mmcakd: children of mmpretrain's, scope ``mmcakd``.

Because every node is a child of the matching mmpretrain node, a config whose
``default_scope`` is ``'mmcakd'`` resolves mmpretrain's types (``ResNet``,
``VisionTransformer``, ``ImageClassifier``, ``FashionMNIST`` ...) unprefixed,
while mmcakd's own types (the distiller, projectors, datasets) are found first.
"""
from typing import Optional

from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'BATCH_AUGMENTS', 'TASK_UTILS',
    'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS', 'TEACHER_READERS',
    'PROJECTORS'
]


def _child(name: str, location: Optional[str] = None) -> Registry:
    """A child of mmpretrain's registry ``name`` in the ``mmcakd`` scope.

    ``location`` is the mmcakd package imported when the node is searched, so
    that ``type='CAKDDistiller'`` resolves without an explicit import.
    """
    parent = getattr(mmpretrain_registry, name)
    return Registry(
        parent.name,
        parent=parent,
        scope='mmcakd',
        locations=[location] if location else [])


RUNNERS = _child('RUNNERS', 'mmcakd.engine')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS', 'mmcakd.engine')
LOOPS = _child('LOOPS', 'mmcakd.engine')
HOOKS = _child('HOOKS', 'mmcakd.engine')
LOG_PROCESSORS = _child('LOG_PROCESSORS', 'mmcakd.engine')
OPTIMIZERS = _child('OPTIMIZERS', 'mmcakd.engine')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS', 'mmcakd.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS',
                                    'mmcakd.engine')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS', 'mmcakd.engine')
DATASETS = _child('DATASETS', 'mmcakd.datasets')
DATA_SAMPLERS = _child('DATA_SAMPLERS', 'mmcakd.datasets')
TRANSFORMS = _child('TRANSFORMS', 'mmcakd.datasets')
MODELS = _child('MODELS', 'mmcakd.models')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS', 'mmcakd.models')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS', 'mmcakd.models')
BATCH_AUGMENTS = _child('BATCH_AUGMENTS', 'mmcakd.models')
TASK_UTILS = _child('TASK_UTILS', 'mmcakd.models')
METRICS = _child('METRICS', 'mmcakd.evaluation')
EVALUATORS = _child('EVALUATORS', 'mmcakd.evaluation')
VISUALIZERS = _child('VISUALIZERS')
VISBACKENDS = _child('VISBACKENDS')

# mmcakd's own: how a teacher family is read (logits, pooled feature, token
# grid and last-block Q/K/V), one file per family in mmcakd.models.teachers.
TEACHER_READERS = Registry(
    'teacher reader', scope='mmcakd', locations=['mmcakd.models.teachers'])

# mmcakd's own: CAKD's projectors, each mapping what it reads from the
# student into a teacher space where its loss compares them (one file per
# projector in mmcakd.models.projectors; ``model.projectors`` of a config).
PROJECTORS = Registry(
    'projector', scope='mmcakd', locations=['mmcakd.models.projectors'])
