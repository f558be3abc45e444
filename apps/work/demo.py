"""Demo question bank for `manage.py load_demo` (`make run`): topics from the chinese-poetry corpus.

Imports `options["topics"]` (default 2000) topics owned by the teacher `corpus` — idempotent, a
second run creates nothing — and mirrors new ones into Elasticsearch when it is configured. Needs
the npm package: `npm ci --no-audit --no-fund --ignore-scripts` in the repository root; without it
the step is skipped with that hint.
"""

from typing import Any

from apps.work import corpus, search
from utils.exceptions import SearchUnavailable

DEFAULT_TOPICS = 2000


def load(*, stdout: Any, options: dict[str, Any]) -> None:
    """Import the demo topics; writes one summary line (or the install hint) to `stdout`."""
    limit = int(options.get("topics") or DEFAULT_TOPICS)
    try:
        result = corpus.import_topics(limit=limit)
    except corpus.CorpusMissing as exc:
        stdout.write(f"   skipped: {exc}")
        return
    stdout.write(
        f"   {result.created} topics imported ({result.existing} already there) from chinese-poetry"
    )
    if result.ids and search.use_elasticsearch():
        try:
            search.sync_topics(topic_ids=result.ids)
        except SearchUnavailable:
            stdout.write("   search index not updated: run `manage.py search_index --reconcile`")
