"""Reading and writing topic files for import/export (API.md §2.4): GIFT and JSON Lines.

`rows_from_file` turns an upload into checked topic rows or a row-by-row error report;
`export_chunks` yields the text of a download piece by piece.
"""

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.work import gift, services
from apps.work.models import Topic
from apps.work.serializers import TopicInputSerializer

FORMAT_GIFT, FORMAT_JSONL = "gift", "jsonl"


class ImportRowSerializer(TopicInputSerializer):
    """One imported topic body; the label comes from the form, not the row."""

    label = None


def detect_format(name: str, text: str) -> str:
    """`jsonl` for `.jsonl`/`.ndjson` names or a first non-blank character `{`, else `gift`."""
    lowered = (name or "").lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return FORMAT_JSONL
    if lowered.endswith((".gift", ".txt")):
        return FORMAT_GIFT
    return FORMAT_JSONL if text.lstrip("\ufeff \t\r\n").startswith("{") else FORMAT_GIFT


def _messages(detail: Any, prefix: str = "") -> list[str]:
    """Flatten DRF error detail (dict/list/str) into `["field: message", ...]`."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_messages(value, "" if key == "non_field_errors" else name))
        return out
    if isinstance(detail, list):
        out = []
        for n, value in enumerate(detail):
            if isinstance(value, dict):
                out.extend(_messages(value, f"{prefix}[{n}]"))
            else:
                out.extend(_messages(value, prefix))
        return out
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _check_row(body: Any, context: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(body, dict):
        return None, ["A topic body must be a JSON object."]
    row = ImportRowSerializer(data=body, context=context)
    if not row.is_valid():
        return None, _messages(row.errors)
    data = dict(row.validated_data)
    try:
        data["options"], data["answer"] = services.topic_clean(
            type=data["type"], options=data.get("options"), answer=data.get("answer")
        )
    except DjangoValidationError as exc:  # already checked in validate(); kept for safety
        return None, _messages(exc.message_dict)
    return data, []


def _parse_line(line: str) -> tuple[Any, str | None]:
    """One JSON Lines line → (value, None), or (None, reason) when it is not parseable JSON.

    Besides syntax errors (`JSONDecodeError`), `json.loads` raises a plain ValueError for an
    integer of more than `sys.get_int_max_str_digits()` digits and RecursionError for deep nesting.
    """
    try:
        return json.loads(line), None
    except json.JSONDecodeError as exc:
        return None, exc.msg
    except ValueError:
        return None, "number too long"
    except RecursionError:
        return None, "nested too deeply"


def rows_from_file(
    *, name: str, text: str, context: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Parse and check every topic of an uploaded file.

    Returns (rows, errors): `rows` are clean topic bodies for `services.topics_bulk_create`;
    `errors` maps the GIFT question number or JSONL line number (as a string) to messages.
    Raises serializers.ValidationError({"file": [...]}) for a file with no topic at all.
    """
    rows: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    if detect_format(name, text) == FORMAT_JSONL:
        for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
            if not line.strip():
                continue
            body, error = _parse_line(line)
            if error:
                errors[str(number)] = [f"Invalid JSON: {error}."]
                continue
            data, messages = _check_row(body, context)
            if messages:
                errors[str(number)] = messages
            elif data is not None:
                rows.append(data)
    else:
        for question in gift.parse(text):
            if question.error:
                errors[str(question.number)] = [question.error]
                continue
            data, messages = _check_row(question.topic, context)
            if messages:
                errors[str(question.number)] = messages
            elif data is not None:
                rows.append(data)
    if not rows and not errors:
        raise serializers.ValidationError({"file": ["The file holds no topics."]})
    return rows, errors


def topic_body(topic: Topic) -> dict[str, Any]:
    """A topic as one JSON Lines body (teacher view fields that import reads back)."""
    return {
        "subject": topic.subject,
        "type": topic.type,
        "score": topic.score,
        "description": topic.description,
        "answer": topic.answer,
        "options": [
            {"key": o.key, "text": o.text, "is_correct": o.is_correct} for o in topic.options.all()
        ],
        "label": topic.label_id,
        "label_name": topic.label.name,
    }


def export_chunks(topics: Iterable[Topic], file_format: str) -> Iterator[str]:
    """Yield the export text: one GIFT question or one JSON line per topic."""
    if file_format == FORMAT_GIFT:
        yield from gift.write(topics)
        return
    for topic in topics:
        yield json.dumps(topic_body(topic), ensure_ascii=False) + "\n"
