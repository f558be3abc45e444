"""The question bank's one visibility policy (API.md §2.4 "Student view").

Teachers and staff see every live topic with `answer` and option correctness; every other caller
(student, plain user, anonymous) gets the *student view*: no exam-label topics or labels, no `answer`
key, no `is_correct` key. Selectors, serializers, search hydration, export and cache keys all ask here.
"""

from typing import Any

from apps.users.roles import is_teacher

TEACHER_VIEW = "teacher"
STUDENT_VIEW = "student"


def view_of(user: Any) -> str:
    """`"teacher"` for teachers/staff, `"student"` for anyone else (API.md §1.3)."""
    return TEACHER_VIEW if is_teacher(user) else STUDENT_VIEW


def sees_exam(user: Any) -> bool:
    """Whether the caller may see exam labels and their topics."""
    return view_of(user) == TEACHER_VIEW


def sees_answers(user: Any) -> bool:
    """Whether the caller may see `answer` and option `is_correct` (and search them)."""
    return view_of(user) == TEACHER_VIEW
