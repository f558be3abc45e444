"""`manage.py search_index [--index topic|article] --rebuild | --reconcile [--dry-run]`: maintain
the `topic` index (default) or the community `article` index (same machinery, same output).

`--rebuild`: zero downtime — a new versioned index is bulk-loaded (tqdm bar), the alias is swapped
in one atomic `_aliases` request, the old index is deleted, then rows written meanwhile are re-synced.
`--reconcile`: compare live DB topics with index documents by id and version (`update_time`),
report missing / stale / extra counts and fix them (unless `--dry-run`).
Exits with an error when the database search backend is configured or Elasticsearch is down.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.community import search as article_search
from apps.work import search as topic_search
from utils.exceptions import SearchUnavailable

INDICES = {"topic": topic_search, "article": article_search}  # modules with rebuild/reconcile


class Command(BaseCommand):
    help = "Rebuild or reconcile an Elasticsearch index (topic or article)."

    def add_arguments(self, parser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--rebuild", action="store_true", help="reload into a new index, swap")
        group.add_argument("--reconcile", action="store_true", help="repair DB/index drift")
        parser.add_argument("--dry-run", action="store_true", help="reconcile: report only")
        parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
        parser.add_argument("--index", choices=sorted(INDICES), default="topic", help="which index")

    def handle(self, *args, **options) -> None:
        search = INDICES[options["index"]]
        if not search.use_elasticsearch():
            raise CommandError("ELASTICSEARCH_URL is not set: the database backend has no index")
        quiet = options["no_progress"]
        started = time.perf_counter()
        try:
            if options["rebuild"]:
                with tqdm(desc="rebuild", unit="doc", disable=quiet, file=self.stderr) as bar:
                    result = search.rebuild(
                        on_total=lambda n: setattr(bar, "total", n), progress=bar.update
                    )
                self.stdout.write(
                    f"rebuilt {result.index}: {result.count} documents in {result.seconds:.1f}s "
                    f"({result.count / max(result.seconds, 1e-9):.0f} docs/s); alias swapped, "
                    f"dropped {', '.join(result.old) or 'nothing'}; {result.caught_up} caught up"
                )
            else:
                with tqdm(desc="reconcile", unit="doc", disable=quiet, file=self.stderr) as bar:
                    result = search.reconcile(
                        fix=not options["dry_run"],
                        on_total=lambda n: setattr(bar, "total", n),
                        progress=bar.update,
                    )
                verb = "fixed" if result.fixed else "found"
                self.stdout.write(
                    f"reconcile: {result.db} live rows, {result.indexed} documents; {verb} "
                    f"missing={result.missing} stale={result.stale} extra={result.extra} "
                    f"in {time.perf_counter() - started:.1f}s"
                )
        except SearchUnavailable as exc:
            raise CommandError(f"Elasticsearch is unavailable: {exc}") from exc
