from .corruptions import (FAMILIES, GROUP_NAMES, GROUPS, SEVERITIES,
                          check_families, corrupt)
from .teacher_accuracy import TeacherAccuracy

__all__ = [
    'FAMILIES', 'GROUP_NAMES', 'GROUPS', 'SEVERITIES', 'TeacherAccuracy',
    'check_families', 'corrupt'
]
