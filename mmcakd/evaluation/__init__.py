from .corruptions import SEVERITIES, corrupt
from .teacher_accuracy import TeacherAccuracy

__all__ = ['SEVERITIES', 'TeacherAccuracy', 'corrupt']
