"""Teacher families: how each kind of teacher is read (registered in
``TEACHER_READERS``; the token families first, then the generic ones)."""
from .reader import (TeacherFeatures, TeacherReader, build_teacher_reader,
                     mean_of_heads, split_heads)
from .mmpretrain_classifier import MMPretrainClassifierReader
from .mmpretrain_vit import MMPretrainViTReader
from .mmpretrain_swin import MMPretrainSwinReader
from .timm_classifier import TimmClassifierReader
from .timm_vit import TimmViTReader
from .timm_swin import TimmSwinReader

__all__ = [
    'TeacherFeatures', 'TeacherReader', 'build_teacher_reader',
    'mean_of_heads', 'split_heads', 'MMPretrainClassifierReader',
    'MMPretrainViTReader', 'MMPretrainSwinReader', 'TimmClassifierReader',
    'TimmViTReader', 'TimmSwinReader'
]
