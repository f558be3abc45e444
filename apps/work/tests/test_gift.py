"""GIFT reader/writer (unit + hypothesis round trip) and the import/export endpoints."""

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.work import gift
from apps.work.models import Topic, TopicType
from apps.work.tests.factories import ExamLabelFactory, LabelFactory, SingleTopicFactory

SAMPLE = """// a comment
$CATEGORY: $course$/Python

::Q1:: Which keyword defines a function? {
  ~func
  =def#right!
  ~lambda
}

::Q2:: [html]Which are mutable? {~%50%list ~%50%dict ~%-100%tuple ####Lists and dicts.}

Python is dynamically typed. {T}

The creator of Python is {=Guido}.

Explain generators. {}

Match these {=a -> 1 =b -> 2}

What is 2+2? {#4}

Escaped \\{braces\\} and \\= sign {TRUE####Feedback \\# here}
"""


def test_parse_sample_types_and_errors():
    rows = gift.parse(SAMPLE)
    assert [r.number for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    q1, q2, q3, q4, q5, q6, q7, q8 = rows
    assert q1.topic["type"] == TopicType.SINGLE
    assert q1.topic["subject"] == "Which keyword defines a function?"
    assert [(o["key"], o["text"], o["is_correct"]) for o in q1.topic["options"]] == [
        ("A", "func", False),
        ("B", "def", True),
        ("C", "lambda", False),
    ]
    assert q2.topic["type"] == TopicType.MULTIPLE
    assert q2.topic["description"] == "Lists and dicts."
    assert [o["is_correct"] for o in q2.topic["options"]] == [True, True, False]
    assert (q3.topic["type"], q3.topic["answer"]) == (TopicType.JUDGE, "true")
    assert (q4.topic["type"], json.loads(q4.topic["answer"])) == (TopicType.FILL, ["Guido"])
    assert q4.topic["subject"] == "The creator of Python is _____ ."
    assert (q5.topic["type"], q5.topic["answer"]) == (TopicType.ESSAY, None)
    assert q6.topic is None
    assert "Matching" in q6.error
    assert q7.topic is None
    assert "Numerical" in q7.error
    assert q8.topic["subject"] == "Escaped {braces} and = sign"
    assert q8.topic["description"] == "Feedback # here"


def test_short_answer_with_alternatives_is_a_row_error_unless_marked_as_blanks():
    assert gift.parse("Capital of France? {=Paris =paris}")[0].error
    marked = gift.parse(f"{gift.BLANKS_MARKER}\nPython: {{=Guido =1991}}")[0]
    assert json.loads(marked.topic["answer"]) == ["Guido", "1991"]


def test_mc_without_positive_answer_is_a_row_error():
    assert "positive-weight" in gift.parse("Q {~a ~b}")[0].error


# --- round trip -----------------------------------------------------------------------------------

text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
multiline = st.lists(text, min_size=1, max_size=3).map("\n".join)


@st.composite
def topics(draw):
    kind = draw(st.sampled_from(list(TopicType)))
    options, answer = [], None
    if kind in (TopicType.SINGLE, TopicType.MULTIPLE):
        n = draw(st.integers(2, 10))
        correct = draw(
            st.sets(
                st.integers(0, n - 1),
                min_size=1 if kind == 0 else 2,
                max_size=1 if kind == 0 else n,
            )
        )
        options = [
            SimpleNamespace(key=gift.KEYS[i], text=draw(text), is_correct=i in correct)
            for i in range(n)
        ]
    elif kind == TopicType.JUDGE:
        answer = draw(st.sampled_from(["true", "false"]))
    elif kind == TopicType.FILL:
        answer = json.dumps(draw(st.lists(text, min_size=1, max_size=3)), ensure_ascii=False)
    return SimpleNamespace(
        subject=draw(multiline),
        type=kind,
        description=draw(st.none() | multiline),
        answer=answer,
        options=SimpleNamespace(all=lambda: options),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(topics(), min_size=1, max_size=4))
def test_gift_round_trip(originals):
    rows = gift.parse("".join(gift.write(originals)))
    assert [r.error for r in rows] == [None] * len(originals)
    for row, original in zip(rows, originals, strict=True):
        got = row.topic
        assert got["subject"] == original.subject
        assert got["type"] == original.type
        assert got["description"] == original.description
        want = [(o.key, o.text, o.is_correct) for o in original.options.all()]
        assert [(o["key"], o["text"], o["is_correct"]) for o in got["options"]] == want
        if original.type in (TopicType.JUDGE, TopicType.FILL):
            assert got["answer"] == original.answer


# --- API ------------------------------------------------------------------------------------------

IMPORT = "/api/work/topics/import/"
EXPORT = "/api/work/topics/export/"


def upload(client, name: str, content: str, label):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream")
    return client.post(IMPORT, {"file": file, "label": label.pk}, format="multipart")


@pytest.mark.django_db
def test_import_gift_with_bad_rows_writes_nothing(client_for, teacher):
    response = upload(client_for(teacher), "bank.gift", SAMPLE, LabelFactory(user=teacher))
    assert response.status_code == 400
    assert set(response.json()["rows"]) == {"6", "7"}
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_import_gift_creates_all_and_indexes_once(
    client_for, teacher, index_calls, django_capture_on_commit_callbacks
):
    label = LabelFactory(user=teacher)
    good = SAMPLE.split("Match these")[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(teacher), "bank.txt", good, label)
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 5}
    assert Topic.objects.filter(label=label, user=teacher).count() == 5
    assert len(index_calls["topics"]) == 1
    assert len(index_calls["topics"][0]) == 5
    assert Topic.objects.get(type=TopicType.MULTIPLE).answer == "AB"


@pytest.mark.django_db
def test_import_jsonl_row_errors_by_line(client_for, teacher):
    lines = [
        json.dumps({"subject": "ok", "type": 2, "answer": "true"}),
        "",
        "{not json",
        json.dumps({"subject": "bad", "type": 0, "options": [{"key": "A", "text": "a"}]}),
        json.dumps({"type": 4}),
    ]
    response = upload(
        client_for(teacher), "bank.jsonl", "\n".join(lines), LabelFactory(user=teacher)
    )
    assert response.status_code == 400
    rows = response.json()["rows"]
    assert set(rows) == {"3", "4", "5"}
    assert any(m.startswith("options") for m in rows["4"])
    assert any(m.startswith("subject") for m in rows["5"])
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_import_roles_and_label(client_for, teacher, student):
    exam = ExamLabelFactory(user=teacher)
    body = json.dumps({"subject": "ok", "type": 4})
    assert upload(client_for(student), "a.jsonl", body, exam).status_code == 403
    response = upload(client_for(teacher), "a.jsonl", "", exam)
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.django_db
def test_export_jsonl_round_trips_through_import(client_for, teacher, other_teacher):
    source = LabelFactory(user=teacher)
    for _ in range(3):
        SingleTopicFactory(label=source, user=teacher)
    SingleTopicFactory(label=LabelFactory(user=teacher), user=teacher)
    response = client_for(other_teacher).get(
        EXPORT, {"file_format": "jsonl", "label": source.pk}, HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert 'filename="topics.jsonl"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode()
    assert len(content.splitlines()) == 3
    target = LabelFactory(user=other_teacher)
    response = upload(client_for(other_teacher), "x.jsonl", content, target)
    assert response.json() == {"created": 3}
    assert list(target.topics.values_list("answer", flat=True)) == ["B", "B", "B"]


@pytest.mark.django_db
def test_export_gift_and_bad_params(client_for, teacher, student):
    SingleTopicFactory(label=LabelFactory(user=teacher), user=teacher, subject="GIFT me")
    client = client_for(teacher)
    response = client.get(EXPORT, {"file_format": "gift"})
    assert response.status_code == 200
    assert "GIFT me {" in b"".join(response.streaming_content).decode()
    assert client.get(EXPORT, {"file_format": "xml"}).status_code == 400
    assert client.get(EXPORT, {"label": 424242}).status_code == 400
    assert client_for(student).get(EXPORT).status_code == 403


def test_arrow_in_an_option_is_not_read_as_a_matching_question():
    topic = SimpleNamespace(
        subject="Which is an arrow?",
        type=TopicType.SINGLE,
        description=None,
        answer=None,
        options=SimpleNamespace(
            all=lambda: [
                SimpleNamespace(key="A", text="a->b", is_correct=True),
                SimpleNamespace(key="B", text="=>", is_correct=False),
            ]
        ),
    )
    (row,) = gift.parse("".join(gift.write([topic])))
    assert row.error is None
    assert [o["text"] for o in row.topic["options"]] == ["a->b", "=>"]
