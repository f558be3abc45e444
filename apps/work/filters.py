"""Query filters of the topic list: `?label=&type=&user=` (API.md §2.4); bad values → 400."""

import django_filters
from django import forms

from apps.work.models import Topic, TopicType

ID_MIN, ID_MAX = -(2**63), 2**63 - 1  # what SQLite INTEGER / MariaDB BIGINT can compare with


class IdField(forms.IntegerField):
    """An integer within the 64-bit id range; a bigger one would overflow the SQLite bind."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """An integer-only id filter ("1.5", "x" or beyond ±2**63 → 400 on the parameter)."""

    field_class = IdField


class TopicFilter(django_filters.FilterSet):
    """`label` (id), `type` (0–4), `user` (author id); combined with AND."""

    label = IntegerFilter(field_name="label_id")
    type = django_filters.TypedChoiceFilter(choices=TopicType.choices, coerce=int)
    user = IntegerFilter(field_name="user_id")

    class Meta:
        model = Topic
        fields = ("label", "type", "user")
