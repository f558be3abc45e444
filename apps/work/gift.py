"""Moodle GIFT reader and writer for the question bank (API.md §2.4 "Import/export").

No maintained PyPI library parses GIFT (pygiftparser: 2017, unmaintained), so this is a small one.
Supported: essay `{}`, true/false `{T}`/`{F}`, multiple choice (`=` right, `~` wrong, `~%n%` weights:
one positive-weight answer → single choice, several → multiple choice), short answer (`{=text}` →
fill-in with one blank). Matching (`->`) and numerical (`{#...}`) questions are row errors. Titles
`::t::` and text formats `[html]` are dropped; `$CATEGORY` and `//` comment lines are skipped.
General feedback `####text` ↔ `description`.

Our extension (ignored by Moodle): a line `// stsys:blanks` before a short-answer question says
its `=` answers are the blanks of one fill-in topic, in order (Moodle would read them as accepted
alternatives of one blank, which without the marker is a row error). GIFT has no score, option keys
(read as A, B, C, ...) or essay reference answer; JSON Lines is the lossless format.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.work.models import TopicType

BLANKS_MARKER = "// stsys:blanks"
KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SPECIAL = "\\~=#{}:"
_FORMAT_RE = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT_RE = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_JUDGE = {"T": "true", "TRUE": "true", "F": "false", "FALSE": "false"}


class GiftError(ValueError):
    """A question this reader cannot turn into a topic; the message names the reason."""


@dataclass
class GiftRow:
    """One question of a GIFT file: `number` (1-based), and either `topic` or `error`.

    `topic`: `{"subject", "type", "description", "answer", "options": [{"key", "text", "is_correct"}]}`.
    """

    number: int
    topic: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class _Chunk:
    lines: list[str] = field(default_factory=list)
    blanks: bool = False


# --- escaping -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape GIFT's special characters and newlines (`\\n`) in plain `text`.

    Also the `>` of a `->`, which would otherwise make an answer block read as a matching question.
    """
    out = []
    previous = ""
    for ch in text:
        if ch in _SPECIAL or (ch == ">" and previous == "-"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            continue
        else:
            out.append(ch)
        previous = ch
    return "".join(out)


def unescape(text: str) -> str:
    """Undo `escape`: `\\n` → newline, `\\X` → X."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _find(text: str, token: str, start: int = 0) -> int:
    """Index of the first unescaped `token` at or after `start`, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(token, i):
            return i
        i += 1
    return -1


# --- reading --------------------------------------------------------------------------------------


def _chunks(source: str) -> Iterator[_Chunk]:
    chunk = _Chunk()
    for raw in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("//"):
            if line == BLANKS_MARKER:
                chunk.blanks = True
            continue
        if line.upper().startswith("$CATEGORY:"):
            continue
        if not line:
            if chunk.lines:
                yield chunk
            chunk = _Chunk(blanks=chunk.blanks and not chunk.lines)
            continue
        chunk.lines.append(raw)
    if chunk.lines:
        yield chunk


def parse(source: str) -> list[GiftRow]:
    """Read every question of a GIFT text into a `GiftRow` (topic or error), in file order."""
    source = source.lstrip("\ufeff")
    rows = []
    for number, chunk in enumerate(_chunks(source), start=1):
        try:
            topic = _question("\n".join(chunk.lines), blanks=chunk.blanks)
        except GiftError as exc:
            rows.append(GiftRow(number=number, error=str(exc)))
        else:
            rows.append(GiftRow(number=number, topic=topic))
    return rows


def _question(text: str, *, blanks: bool) -> dict[str, Any]:
    text = text.strip()
    if text.startswith("::"):
        end = _find(text, "::", 2)
        if end < 0:
            raise GiftError("Unterminated question title.")
        text = text[end + 2 :].lstrip()
    text = _FORMAT_RE.sub("", text, count=1)
    open_at = _find(text, "{")
    if open_at < 0:
        raise GiftError("No answer block {...}.")
    close_at = _find(text, "}", open_at + 1)
    if close_at < 0:
        raise GiftError("Unterminated answer block.")
    before = unescape(text[:open_at]).strip()
    after = unescape(text[close_at + 1 :]).strip()
    subject = f"{before} _____ {after}" if after else before
    if not subject:
        raise GiftError("Empty question text.")
    body = text[open_at + 1 : close_at]
    general = _find(body, "####")
    description = None
    if general >= 0:
        description = unescape(body[general + 4 :]).strip() or None
        body = body[:general]
    topic: dict[str, Any] = {"subject": subject, "description": description, "options": []}
    topic.update(_answers(body.strip(), blanks=blanks))
    return topic


def _answers(body: str, *, blanks: bool) -> dict[str, Any]:
    if not body:
        return {"type": TopicType.ESSAY, "answer": None}
    if body.startswith("#"):
        raise GiftError("Numerical questions are not supported.")
    head = body.split("#", 1)[0].strip().upper()
    if head in _JUDGE and body[0] not in "=~":
        return {"type": TopicType.JUDGE, "answer": _JUDGE[head]}
    if _find(body, "->") >= 0:
        raise GiftError("Matching questions are not supported.")
    if body[0] not in "=~":
        raise GiftError("Unrecognised answer block.")
    answers = list(_split_answers(body))
    if any(mark == "~" for mark, _, _ in answers):
        return _choice(answers)
    texts = [text for _, _, text in answers]
    if len(texts) > 1 and not blanks:
        raise GiftError(
            "Several accepted answers for one blank are not supported (a fill-in topic keeps one "
            "text per blank)."
        )
    return {"type": TopicType.FILL, "answer": json.dumps(texts, ensure_ascii=False)}


def _split_answers(body: str) -> Iterator[tuple[str, float, str]]:
    """Yield (mark "=" or "~", weight in percent, text) per answer; per-answer feedback dropped."""
    starts = []
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body[i] in "=~":
            starts.append(i)
        i += 1
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(body)
        mark, raw = body[start], body[start + 1 : end]
        weight = 100.0 if mark == "=" else 0.0
        match = _WEIGHT_RE.match(raw)
        if match:
            weight = float(match.group(1))
            raw = raw[match.end() :]
        feedback = _find(raw, "#")
        if feedback >= 0:
            raw = raw[:feedback]
        text = unescape(raw).strip()
        if not text:
            raise GiftError("Empty answer text.")
        yield mark, weight, text


def _choice(answers: list[tuple[str, float, str]]) -> dict[str, Any]:
    if len(answers) > len(KEYS):
        raise GiftError(f"More than {len(KEYS)} answers.")
    options = [
        {"key": KEYS[n], "text": text, "is_correct": weight > 0}
        for n, (_, weight, text) in enumerate(answers)
    ]
    correct = sum(1 for o in options if o["is_correct"])
    if correct == 0:
        raise GiftError("A multiple-choice question needs a positive-weight answer.")
    kind = TopicType.SINGLE if correct == 1 else TopicType.MULTIPLE
    return {"type": kind, "answer": None, "options": options}


# --- writing --------------------------------------------------------------------------------------


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def write_topic(topic: Any) -> str:
    """One topic (model instance with prefetched `options`) as a GIFT question plus a blank line.

    Lossy by design: score, option keys and an essay's reference answer have no GIFT field.
    """
    subject = escape(topic.subject)
    if subject.startswith(("[", "/")):  # not a text format `[html]` nor a `//` comment line
        subject = "\\" + subject
    tail = f"####{escape(topic.description)}" if topic.description else ""
    prefix = ""
    if topic.type in (TopicType.SINGLE, TopicType.MULTIPLE):
        options = sorted(topic.options.all(), key=lambda o: o.key)
        correct = sum(1 for o in options if o.is_correct)
        lines = []
        for option in options:
            text = escape(option.text)
            if topic.type == TopicType.SINGLE:
                lines.append(f"{'=' if option.is_correct else '~'}{text}")
            elif option.is_correct:
                lines.append(f"~%{_weight(100 / correct)}%{text}")
            else:
                lines.append(f"~%-100%{text}")
        block = "\n\t" + "\n\t".join(lines) + (f"\n\t{tail}" if tail else "") + "\n"
    elif topic.type == TopicType.JUDGE:
        block = ("T" if topic.answer == "true" else "F") + tail
    elif topic.type == TopicType.FILL:
        texts = json.loads(topic.answer or "[]")
        if len(texts) > 1:
            prefix = BLANKS_MARKER + "\n"
        block = " ".join(f"={escape(t)}" for t in texts) + tail
    else:
        block = tail
    return f"{prefix}{subject} {{{block}}}\n\n"


def write(topics: Iterable[Any]) -> Iterator[str]:
    """Yield the GIFT text of `topics` piece by piece (for a streamed download)."""
    for topic in topics:
        yield write_topic(topic)
