"""A real Chinese question bank made from the npm package `chinese-poetry` (MIT, © JackeyGao).

Install it with `npm ci --no-audit --no-fund --ignore-scripts` at the repository root (the root
`package.json` pins 2.0.1; files land in `node_modules/chinese-poetry/dist`, or set
`CHINESE_POETRY_DIR`). Collections read: 唐诗 (全唐诗, traditional → simplified with OpenCC), 宋词,
元曲, 诗经, 论语, 楚辞.

Each poem (or 论语 paragraph) yields three topics: a fill-in-the-blank line (type 3, answer a JSON
list), a single choice on its author / chapter (type 0, four options, one correct) and a judge
question (type 2, "true"/"false"). The output is deterministic for a given seed: the same `limit`
always produces the same topics in the same order, which `import_poetry` relies on to resume.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.work.models import TopicType

DEFAULT_SEED = 20240901
EXAM_LABEL = "诗词考试"  # an exam label: a deterministic ~5% of topics, hidden from students
EXAM_SHARE = 0.05
KEYS = "ABCD"
CLAUSE = re.compile(r"[^，。？！；、：]+[，。？！；、：]?")
BAD = re.compile(r"[□\[\]{}()（）〖〗《》<>/|=0-9A-Za-z_\-]")


class CorpusMissing(RuntimeError):
    """The `chinese-poetry` package is not installed where we look (message says how to install)."""


def corpus_dir() -> Path:
    """`CHINESE_POETRY_DIR`, else `<BASE_DIR>/node_modules/chinese-poetry/dist`.

    Raises `CorpusMissing` when the directory does not exist.
    """
    path = Path(
        os.environ.get("CHINESE_POETRY_DIR")
        or settings.BASE_DIR / "node_modules" / "chinese-poetry" / "dist"
    )
    if not (path / "songci").is_dir():
        raise CorpusMissing(
            f"chinese-poetry not found at {path}; run "
            "`npm ci --no-audit --no-fund --ignore-scripts` in the repository root"
        )
    return path


@dataclass(frozen=True)
class Poem:
    """One source text: `collection` (the label), `title`, `attribute` asked about (author or
    chapter) with its `kind` ("作者" / "篇目"), `dynasty` and its `lines` (sentences)."""

    collection: str
    title: str
    attribute: str
    kind: str
    dynasty: str
    lines: tuple[str, ...]


@dataclass
class TopicRow:
    """A generated topic: fields of `Topic` plus `label` (name) and `options` [(key, text, ok)]."""

    subject: str
    type: int
    answer: str
    description: str | None
    label: str
    score: float
    options: list[tuple[str, str, bool]] = field(default_factory=list)


@cache
def _t2s() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _numbered(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern), key=lambda p: int(re.sub(r"\D", "", p.name) or 0))


def _clean_lines(paragraphs: Iterable[str]) -> tuple[str, ...]:
    lines = tuple(p.strip() for p in paragraphs if p and p.strip())
    if not lines or any(BAD.search(line) for line in lines):
        return ()
    return lines


def _tang(root: Path) -> Iterator[Poem]:
    t2s = _t2s()
    for path in _numbered(root / "quantangshi", "poet.tang.*.json"):
        for row in _load(path):
            lines = _clean_lines(t2s(p) for p in row.get("paragraphs") or [])
            if lines:
                author = t2s(row.get("author") or "")
                yield Poem("唐诗", t2s(row.get("title") or ""), author, "作者", "唐", lines)


def _songci(root: Path) -> Iterator[Poem]:
    for path in _numbered(root / "songci", "ci.song.*.json"):
        if not re.fullmatch(r"ci\.song\.\d+\.json", path.name):
            continue
        for row in _load(path):
            lines = _clean_lines(row.get("paragraphs") or [])
            if lines:
                yield Poem(
                    "宋词", row.get("rhythmic") or "", row.get("author") or "", "作者", "宋", lines
                )


def _yuanqu(root: Path) -> Iterator[Poem]:
    for row in _load(root / "yuanqu" / "yuanqu.json"):
        author = row.get("author") or ""
        lines = _clean_lines(row.get("paragraphs") or [])
        if lines and "《" not in author:
            yield Poem("元曲", row.get("title") or "", author, "作者", "元", lines)


def _shijing(root: Path) -> Iterator[Poem]:
    for row in _load(root / "shijing" / "shijing.json"):
        lines = _clean_lines(row.get("content") or [])
        if lines:
            section = f"{row.get('chapter')}·{row.get('section')}"
            yield Poem("诗经", row.get("title") or "", section, "篇目", "先秦", lines)


def _lunyu(root: Path) -> Iterator[Poem]:
    for row in _load(root / "lunyu" / "lunyu.json"):
        for number, paragraph in enumerate(row.get("paragraphs") or [], 1):
            lines = _clean_lines(CLAUSE.findall(paragraph.replace("“", "").replace("”", "")))
            if len(lines) >= 2:
                chapter = row.get("chapter") or ""
                yield Poem("论语", f"{chapter}第{number}章", chapter, "篇目", "春秋", lines)


def _chuci(root: Path) -> Iterator[Poem]:
    for row in _load(root / "chuci" / "chuci.json"):
        lines = _clean_lines(row.get("content") or [])
        if lines:
            yield Poem(
                "楚辞", row.get("title") or "", row.get("author") or "", "作者", "战国", lines
            )


# (reader, poems taken per round): the round robin keeps any prefix of the output a mix.
COLLECTIONS: tuple[tuple[Callable[[Path], Iterator[Poem]], int], ...] = (
    (_tang, 4),
    (_songci, 3),
    (_yuanqu, 1),
    (_shijing, 1),
    (_lunyu, 1),
    (_chuci, 1),
)
LABELS = ("唐诗", "宋词", "元曲", "诗经", "论语", "楚辞")


def poems(root: Path | None = None) -> Iterator[Poem]:
    """Every usable poem, collections interleaved round robin (deterministic, lazily read)."""
    root = root or corpus_dir()
    streams = [(reader(root), per_round) for reader, per_round in COLLECTIONS]
    while streams:
        alive = []
        for stream, per_round in streams:
            for taken, poem in enumerate(stream, 1):
                yield poem
                if taken == per_round:
                    alive.append((stream, per_round))
                    break
        streams = alive


def _clauses(line: str) -> list[str]:
    return [c for c in CLAUSE.findall(line) if 2 <= len(c.rstrip("，。？！；、：")) <= 12]


def _source(poem: Poem) -> str:
    if poem.kind == "作者":
        return f"{poem.dynasty}·{poem.attribute}《{poem.title}》"
    return f"《{poem.collection}·{poem.attribute}》{poem.title}"


def _fill(poem: Poem, rng: random.Random) -> TopicRow | None:
    candidates = [(i, c) for i, line in enumerate(poem.lines) for c in _clauses(line)]
    if not candidates:
        return None
    index, clause = rng.choice(candidates)
    blank = clause.rstrip("，。？！；、：")
    line = poem.lines[index].replace(blank, "____", 1)
    before = poem.lines[index - 1] if index > 0 else ""
    return TopicRow(
        subject=f"补全{poem.collection}：{before}{line}",
        type=TopicType.FILL,
        answer=json.dumps([blank], ensure_ascii=False),
        description=f"出自{_source(poem)}。",
        label=poem.collection,
        score=2.0,
    )


def _quote(poem: Poem, rng: random.Random) -> str:
    return rng.choice(poem.lines).rstrip("，。？！；、：")


def _choice(poem: Poem, rng: random.Random, pool: list[str]) -> TopicRow | None:
    others = sorted({p for p in pool if p != poem.attribute})
    if len(others) < 3 or not poem.attribute:
        return None
    texts = [poem.attribute, *rng.sample(others, 3)]
    rng.shuffle(texts)
    options = [(KEYS[i], text, text == poem.attribute) for i, text in enumerate(texts)]
    what = "的作者是" if poem.kind == "作者" else "出自哪一篇"
    title = f"《{poem.title}》" if poem.kind == "作者" else "这一句"
    return TopicRow(
        subject=f"“{_quote(poem, rng)}”一句所在的{poem.collection}{title}{what}？",
        type=TopicType.SINGLE,
        answer="".join(k for k, _, ok in options if ok),
        description=f"{poem.collection}单选题。",
        label=poem.collection,
        score=2.0,
        options=options,
    )


def _judge(poem: Poem, rng: random.Random, pool: list[str]) -> TopicRow | None:
    if not poem.attribute:
        return None
    others = sorted({p for p in pool if p != poem.attribute})
    truth = not others or rng.random() < 0.5
    claimed = poem.attribute if truth else rng.choice(others)
    where = f"{poem.dynasty}代{claimed}所作" if poem.kind == "作者" else f"出自{claimed}"
    return TopicRow(
        subject=f"判断：“{_quote(poem, rng)}”{where}。",
        type=TopicType.JUDGE,
        answer="true" if truth else "false",
        description=f"题目：{poem.title}。" if poem.title else None,
        label=poem.collection,
        score=1.0,
    )


def topic_rows(
    limit: int, *, seed: int = DEFAULT_SEED, root: Path | None = None
) -> Iterator[TopicRow]:
    """The first `limit` generated topics (≤ 3 per poem: fill-in, single choice, judge), in order.

    Distractors come from the attributes (authors / chapters) seen so far in the same collection,
    so output depends only on `seed` and the corpus. ~5% of topics go to the exam label.
    """
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}
    seen: dict[str, set[str]] = {}
    made = 0
    for poem in poems(root):
        pool = pools.setdefault(poem.collection, [])
        if poem.attribute and poem.attribute not in seen.setdefault(poem.collection, set()):
            seen[poem.collection].add(poem.attribute)
            pool.append(poem.attribute)
        for row in (_fill(poem, rng), _choice(poem, rng, pool), _judge(poem, rng, pool)):
            if row is None:
                continue
            if rng.random() < EXAM_SHARE:
                row.label = EXAM_LABEL
            yield row
            made += 1
            if made >= limit:
                return


# --- import ----------------------------------------------------------------------------------------

CORPUS_USERNAME = "corpus"
BATCH = 1000  # topics per transaction


@dataclass
class ImportResult:
    """`created` new topics (ids in `ids`), `existing` corpus topics found before, `owner` id."""

    created: int
    existing: int
    owner: int
    ids: list[int] = field(default_factory=list)


def corpus_owner() -> Any:
    """The teacher `corpus` owning imported topics (created with an unusable password)."""
    from django.contrib.auth.models import Group

    from apps.users.models import TEACHER_GROUP, User

    user, created = User.objects.get_or_create(
        username=CORPUS_USERNAME,
        defaults={"email": "corpus@example.com", "first_name": "诗词", "last_name": "题库"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=TEACHER_GROUP)[0])
    return user


def import_topics(
    *,
    limit: int,
    seed: int = DEFAULT_SEED,
    batch_size: int = BATCH,
    root: Path | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Make the `corpus` teacher own the first `limit` generated topics (idempotent, resumable).

    Topics already owned by `corpus` (soft-deleted ones included) count as the generated prefix
    and are skipped, so re-running with the same `limit` and `seed` creates nothing. Each batch
    of `batch_size` topics (+ their options) is one transaction; response caches `work:topic` and
    `work:label` are bumped after each commit. Indexing is left to the caller (`ids` returned).
    Raises `CorpusMissing` when the npm package is not installed.
    """
    from django.db import connection, transaction

    from apps.work.models import Label, Topic, TopicOption
    from apps.work.services import CACHE_NAMESPACES
    from utils import cache as response_cache

    root = root or corpus_dir()
    owner = corpus_owner()
    existing = Topic.objects.filter(user=owner).count()
    todo = max(limit - existing, 0)
    if on_total is not None:
        on_total(todo)
    result = ImportResult(created=0, existing=existing, owner=owner.pk)
    if not todo:
        return result
    labels = {
        name: Label.objects.get_or_create(
            name=name, defaults={"user": owner, "is_exam": name == EXAM_LABEL}
        )[0]
        for name in (*LABELS, EXAM_LABEL)
    }
    rows = topic_rows(limit, seed=seed, root=root)
    for _ in range(existing):  # the prefix already imported
        next(rows, None)
    batch: list[TopicRow] = []

    def flush() -> None:
        topics = [
            Topic(
                subject=row.subject,
                type=row.type,
                score=row.score,
                description=row.description,
                answer=row.answer,
                label=labels[row.label],
                user=owner,
            )
            for row in batch
        ]
        with transaction.atomic():
            if connection.features.can_return_rows_from_bulk_insert:
                topics = Topic.objects.bulk_create(topics)
            else:  # MySQL without RETURNING: ids need one INSERT per row
                for topic in topics:
                    topic.save(force_insert=True)
            TopicOption.objects.bulk_create(
                TopicOption(topic=topic, key=key, text=text, is_correct=ok)
                for topic, row in zip(topics, batch, strict=True)
                for key, text, ok in row.options
            )
            transaction.on_commit(lambda: response_cache.bump(*CACHE_NAMESPACES))
        result.ids.extend(t.pk for t in topics)
        result.created += len(topics)
        if progress is not None:
            progress(len(topics))
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return result
