"""Query filters of the topic list: `?label=&type=&user=` (API.md §2.4); bad values → 400."""

import django_filters
from django import forms

from apps.work.models import Topic, TopicType


class IntegerFilter(django_filters.NumberFilter):
    """An integer-only number filter ("1.5" or "x" → 400)."""

    field_class = forms.IntegerField


class TopicFilter(django_filters.FilterSet):
    """`label` (id), `type` (0–4), `user` (author id); combined with AND."""

    label = IntegerFilter(field_name="label_id")
    type = django_filters.TypedChoiceFilter(choices=TopicType.choices, coerce=int)
    user = IntegerFilter(field_name="user_id")

    class Meta:
        model = Topic
        fields = ("label", "type", "user")
