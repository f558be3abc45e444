"""Wire shapes of labels and topics (API.md §2.3, §2.4).

Output: `TopicSerializer` (teacher/staff view) and `StudentTopicSerializer` (everyone else: no
`answer`, no option `is_correct`); `topic_serializer_for(user)` picks one from the visibility policy.
Input: `LabelInputSerializer`, `TopicInputSerializer` (per-type rules via `services.topic_clean`),
`TopicSearchParamsSerializer`, `TopicImportSerializer`, `TopicExportParamsSerializer`.
"""

import math
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.work import selectors, services
from apps.work.models import Label, Topic, TopicOption, TopicType
from apps.work.visibility import sees_answers

# --- labels ---------------------------------------------------------------------------------------


class LabelSerializer(serializers.ModelSerializer):
    """`{"id", "name", "is_exam", "user", "create_time", "update_time"}`; `user` is server-set."""

    class Meta:
        model = Label
        fields = ("id", "name", "is_exam", "user", "create_time", "update_time")
        read_only_fields = ("id", "user", "create_time", "update_time")


# --- topics: output -------------------------------------------------------------------------------


class OptionSerializer(serializers.ModelSerializer):
    """Teacher view of an option: `{"key", "text", "is_correct"}`."""

    class Meta:
        model = TopicOption
        fields = ("key", "text", "is_correct")


class StudentOptionSerializer(serializers.ModelSerializer):
    """Student view of an option: `{"key", "text"}` (no `is_correct` key)."""

    class Meta:
        model = TopicOption
        fields = ("key", "text")


STUDENT_TOPIC_FIELDS = (
    "id",
    "subject",
    "type",
    "score",
    "description",
    "label",
    "label_name",
    "options",
    "user",
    "create_time",
    "update_time",
)


class StudentTopicSerializer(serializers.ModelSerializer):
    """Student view of a topic (API.md §2.4): no `answer` key, options without `is_correct`."""

    label_name = serializers.CharField(source="label.name", read_only=True)
    options = StudentOptionSerializer(many=True, read_only=True)

    class Meta:
        model = Topic
        fields = STUDENT_TOPIC_FIELDS
        read_only_fields = fields


class TopicSerializer(StudentTopicSerializer):
    """Teacher/staff view of a topic: the student view plus `answer` and option `is_correct`."""

    options = OptionSerializer(many=True, read_only=True)

    class Meta(StudentTopicSerializer.Meta):
        fields = (*STUDENT_TOPIC_FIELDS[:5], "answer", *STUDENT_TOPIC_FIELDS[5:])
        read_only_fields = fields


class HighlightMixin(serializers.Serializer):
    """Adds `subject_highlight`/`description_highlight` from `context["highlights"][topic.id]`.

    Values come from the search backend, already HTML-escaped except `<em class="hl">`; null when
    the field did not match or the query text was empty.
    """

    subject_highlight = serializers.SerializerMethodField()
    description_highlight = serializers.SerializerMethodField()

    def _highlight(self, topic: Topic, name: str) -> str | None:
        return (self.context.get("highlights", {}).get(topic.pk) or {}).get(name) or None

    def get_subject_highlight(self, topic: Topic) -> str | None:
        return self._highlight(topic, "subject")

    def get_description_highlight(self, topic: Topic) -> str | None:
        return self._highlight(topic, "description")


class StudentTopicSearchSerializer(HighlightMixin, StudentTopicSerializer):
    """A search result in the student view."""

    class Meta(StudentTopicSerializer.Meta):
        fields = (*StudentTopicSerializer.Meta.fields, "subject_highlight", "description_highlight")
        read_only_fields = fields


class TopicSearchSerializer(HighlightMixin, TopicSerializer):
    """A search result in the teacher view."""

    class Meta(TopicSerializer.Meta):
        fields = (*TopicSerializer.Meta.fields, "subject_highlight", "description_highlight")
        read_only_fields = fields


def topic_serializer_for(user: Any, *, search: bool = False) -> type[serializers.Serializer]:
    """The topic output serializer class for the caller's view (the one visibility policy)."""
    if sees_answers(user):
        return TopicSearchSerializer if search else TopicSerializer
    return StudentTopicSearchSerializer if search else StudentTopicSerializer


# --- topics: fast output of lists ------------------------------------------------------------------


def _datetime(value: datetime | None, tz: tzinfo) -> str | None:
    # DRF's DateTimeField (ISO 8601): in the current time zone `tz`, "+00:00" written as "Z"
    if value is None:
        return None
    if timezone.is_aware(value):
        value = value.astimezone(tz)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def render_topic_rows(
    rows: Iterable[dict[str, Any]],
    *,
    answers: bool,
    highlights: dict[int, dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The bodies `TopicSerializer`/`StudentTopicSerializer` (or, with `highlights`, the search
    serializers) give, rendered from completed rows (`selectors.topic_rows_complete`).

    `answers`: the teacher view (`answer`, option `is_correct`); else the student view, which never
    reads them. `highlights`: `{topic id: {"subject"|"description": html}}` adds the `*_highlight`
    keys. Same keys, order and values as the serializers (checked by
    `apps/work/tests/test_read_path.py`), without building DRF fields per request.
    """
    out = []
    tz = timezone.get_current_timezone()
    for row in rows:
        score = row["score"]
        body: dict[str, Any] = {
            "id": row["id"],
            "subject": row["subject"],
            "type": row["type"],
            "score": None if score is None else float(score),
            "description": row["description"],
        }
        if answers:
            body["answer"] = row["answer"]
            options = [dict(o) for o in row["options"]]
        else:
            options = [{"key": o["key"], "text": o["text"]} for o in row["options"]]
        body["label"] = row["label_id"]
        body["label_name"] = row["label_name"]
        body["options"] = options
        body["user"] = row["user_id"]
        body["create_time"] = _datetime(row["create_time"], tz)
        body["update_time"] = _datetime(row["update_time"], tz)
        if highlights is not None:
            marks = highlights.get(row["id"]) or {}
            body["subject_highlight"] = marks.get("subject") or None
            body["description_highlight"] = marks.get("description") or None
        out.append(body)
    return out


# --- topics: input --------------------------------------------------------------------------------


class OptionInputSerializer(serializers.Serializer):
    """`{"key": str 1–2, "text": str 1–1000, "is_correct": bool (default false)}`."""

    key = serializers.CharField(max_length=2)
    text = serializers.CharField(max_length=1000)
    is_correct = serializers.BooleanField(default=False)


class FiniteFloatField(serializers.FloatField):
    """A FloatField that also refuses NaN and ±Infinity ("NaN", "Infinity", "1e999", a bare JSON
    Lines `NaN`) with 400 "invalid": NaN passes min/max (it compares false) and breaks the DB write."""

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")  # DRF's localised "A valid number is required."
        return value


@extend_schema_field(OpenApiTypes.INT)
class VisibleLabelField(serializers.PrimaryKeyRelatedField):
    """A label id among those visible to `context["request"].user` (else "Invalid pk" 400)."""

    def get_queryset(self):
        return selectors.label_list_visible_to(user=self.context["request"].user)


class TopicInputSerializer(serializers.Serializer):
    """Topic body (API.md §2.4); `validate` applies the per-type rules to the merged state.

    `user`, `id` and times are not fields, so sent values are ignored. With `instance` set (PUT or
    PATCH) the rules see the topic as it would be after the write (`services.topic_merge`).
    """

    subject = serializers.CharField(max_length=10_000)
    type = serializers.ChoiceField(choices=TopicType.choices)
    score = FiniteFloatField(min_value=0, max_value=1000, allow_null=True, required=False)
    description = serializers.CharField(
        max_length=10_000, allow_null=True, allow_blank=True, required=False
    )
    answer = serializers.CharField(
        max_length=10_000, allow_null=True, allow_blank=True, required=False, trim_whitespace=False
    )
    label = VisibleLabelField()
    options = OptionInputSerializer(many=True, required=False, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("options") is not None:  # PATCH (partial) skips nested defaults: fill them
            attrs["options"] = [{"is_correct": False, **o} for o in attrs["options"]]
        if self.instance is None:
            kind, options, answer = attrs["type"], attrs.get("options"), attrs.get("answer")
        else:
            kind, options, answer = services.topic_merge(topic=self.instance, data=attrs)
        services.topic_clean(type=kind, options=options, answer=answer)  # ValidationError → 400
        if attrs.get("description") == "":
            attrs["description"] = None
        return attrs


# --- search, import, export -----------------------------------------------------------------------

SEARCH_WINDOW = 10_000  # offset + limit ceiling (Elasticsearch's max_result_window)


class TopicSearchParamsSerializer(serializers.Serializer):
    """Search query params (API.md §2.4): `text` ≤100 after trim, `type` 0–4, visible `label`,
    `offset` ≥0 (default 0), `limit` 1–50 (default 10), `offset + limit` ≤ 10 000."""

    text = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(choices=TopicType.choices, required=False)
    label = VisibleLabelField(required=False)
    offset = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["offset"] + attrs["limit"] > SEARCH_WINDOW:
            raise serializers.ValidationError(
                {"offset": [f"offset + limit must not exceed {SEARCH_WINDOW}."]}
            )
        return attrs


IMPORT_MAX_BYTES = 2 * 1024 * 1024  # API.md §1.8


class TopicImportSerializer(serializers.Serializer):
    """Multipart `file` (GIFT or JSON Lines, UTF-8, ≤2 MiB) and `label` (visible label id)."""

    file = serializers.FileField()
    label = VisibleLabelField()

    def validate_file(self, file: Any) -> Any:
        if file.size > IMPORT_MAX_BYTES:
            raise serializers.ValidationError("File too large (max 2 MB).")
        return file


class TopicExportParamsSerializer(serializers.Serializer):
    """`file_format` `gift` | `jsonl` (default `jsonl`) and optional visible `label`."""

    file_format = serializers.ChoiceField(choices=("gift", "jsonl"), default="jsonl")
    label = VisibleLabelField(required=False)
