"""The chinese-poetry corpus (npm package) → question bank: deterministic, idempotent, typed."""

import json

import pytest
from django.core.management import call_command

from apps.work import corpus
from apps.work.models import Label, Topic, TopicType
from apps.work.services import topic_clean
from conftest import require_service


@pytest.fixture
def poetry_dir():
    try:
        return corpus.corpus_dir()
    except corpus.CorpusMissing as exc:
        require_service("chinese-poetry npm package", False, str(exc))


def test_generation_is_deterministic_and_mixed(poetry_dir):
    first = list(corpus.topic_rows(600))
    assert first == list(corpus.topic_rows(600))
    assert list(corpus.topic_rows(600, seed=1)) != first
    assert {row.label for row in first} >= {"唐诗", "宋词", "元曲", "诗经", "论语", "楚辞"}
    assert {row.type for row in first} == {TopicType.FILL, TopicType.SINGLE, TopicType.JUDGE}
    for row in first:
        options = [{"key": k, "text": t, "is_correct": ok} for k, t, ok in row.options]
        _, answer = topic_clean(type=row.type, options=options or None, answer=row.answer)
        assert answer == row.answer  # every generated topic obeys the API's per-type rules
        if row.type == TopicType.FILL:
            (blank,) = json.loads(row.answer)
            assert "____" in row.subject
            assert 2 <= len(blank) <= 12


def test_tang_poems_are_converted_to_simplified(poetry_dir):
    tang = next(p for p in corpus.poems() if p.collection == "唐诗")
    assert "壯" not in "".join(tang.lines)
    assert "壮" in "".join(tang.lines)  # 太宗皇帝《帝京篇十首 一》: 函谷壮皇居


@pytest.mark.django_db
def test_import_poetry_is_idempotent_and_resumable(poetry_dir, capsys):
    call_command("import_poetry", "--limit", "150", "--batch", "40", "--no-progress", "--no-index")
    assert Topic.objects.filter(user__username="corpus").count() == 150
    call_command("import_poetry", "--limit", "150", "--no-progress", "--no-index")
    assert Topic.objects.filter(user__username="corpus").count() == 150
    call_command("import_poetry", "--limit", "200", "--no-progress", "--no-index")
    subjects = list(Topic.objects.order_by("pk").values_list("subject", flat=True))
    assert subjects == [row.subject for row in corpus.topic_rows(200)]
    assert "imported 50 topics (150 already there" in capsys.readouterr().out
    assert Label.objects.get(name=corpus.EXAM_LABEL).is_exam
    single = Topic.objects.filter(type=TopicType.SINGLE).first()
    assert single.options.count() == 4
    assert single.options.filter(is_correct=True).count() == 1
