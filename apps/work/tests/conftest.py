"""Fixtures of the question-bank tests: API clients per role and a stand-in search backend.

`fake_search` replaces `apps.work.search.search_topics` with an index-like stand-in that returns
EVERY topic id (exam, deleted and missing ones included) in newest-first order with highlights,
so the tests prove the view's DB hydration alone enforces visibility.
"""

import sys
import types
from dataclasses import dataclass, field
from html import escape

import pytest

from apps.work.models import Topic


@dataclass
class FakeHit:
    id: int
    highlight: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeResult:
    count: int
    hits: list[FakeHit]


class FakeSearch:
    """Records calls; answers every topic row plus `extra_ids` (ids with no row)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.extra_ids: list[int] = []
        self.error: Exception | None = None

    def __call__(self, *, user, text, type, label, offset, limit) -> FakeResult:
        self.calls.append(
            {
                "user": user,
                "text": text,
                "type": type,
                "label": label,
                "offset": offset,
                "limit": limit,
            }
        )
        if self.error is not None:
            raise self.error
        ids = list(Topic.objects.order_by("-update_time", "-id").values_list("id", flat=True))
        ids += self.extra_ids
        window = ids[offset : offset + limit]
        hits = []
        for pk in window:
            highlight = {}
            if text:
                subject = Topic.objects.filter(pk=pk).values_list("subject", flat=True).first()
                if subject and text in subject:
                    marked = f'<em class="hl">{escape(text)}</em>'
                    highlight["subject"] = escape(subject).replace(escape(text), marked)
            hits.append(FakeHit(id=pk, highlight=highlight))
        return FakeResult(count=len(ids), hits=hits)


@pytest.fixture
def fake_search(monkeypatch) -> FakeSearch:
    """Install `FakeSearch` as `apps.work.search.search_topics` (module created if absent)."""
    fake = FakeSearch()
    module = sys.modules.get("apps.work.search")
    if module is None:
        try:
            import apps.work.search as module
        except ImportError:
            module = types.ModuleType("apps.work.search")
            monkeypatch.setitem(sys.modules, "apps.work.search", module)
            import apps.work

            monkeypatch.setattr(apps.work, "search", module, raising=False)
    monkeypatch.setattr(module, "search_topics", fake, raising=False)
    return fake


@pytest.fixture
def index_calls(monkeypatch) -> dict[str, list]:
    """Replace the index tasks' `.delay` with recorders: `{"topic": [ids], "topics": [[ids]], "label": [ids]}`."""
    from apps.work import tasks

    calls: dict[str, list] = {"topic": [], "topics": [], "label": [], "rebuild": []}

    class Result:
        id = "task-id-1"

    def recorder(name):
        def delay(*args):
            calls[name].append(args[0] if args else None)
            return Result()

        return delay

    monkeypatch.setattr(tasks.topic_index_task, "delay", recorder("topic"))
    monkeypatch.setattr(tasks.topics_index_task, "delay", recorder("topics"))
    monkeypatch.setattr(tasks.label_reindex_task, "delay", recorder("label"))
    rebuild = getattr(tasks, "topic_rebuild_task", None)
    if rebuild is not None:
        monkeypatch.setattr(rebuild, "delay", recorder("rebuild"))
    else:
        monkeypatch.setattr(
            tasks,
            "topic_rebuild_task",
            types.SimpleNamespace(delay=recorder("rebuild")),
            raising=False,
        )
    return calls
