"""`manage.py import_poetry --limit N`: a real Chinese question bank from the `chinese-poetry` corpus.

Creates up to N topics owned by the teacher `corpus` (fill-in, single choice, judge; labels per
collection plus the exam label 诗词考试), in transactions of `--batch` rows with a tqdm bar, then
mirrors the new topics into Elasticsearch in one bulk pass (skipped with the database backend or
`--no-index`). Deterministic (`--seed`) and idempotent: topics already imported are not repeated.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.work import corpus, search
from utils.exceptions import SearchUnavailable


class Command(BaseCommand):
    help = "Import topics generated from the chinese-poetry npm package (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=50_000, help="topics wanted in total")
        parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
        parser.add_argument("--batch", type=int, default=corpus.BATCH, help="rows per transaction")
        parser.add_argument("--no-index", action="store_true", help="do not touch Elasticsearch")
        parser.add_argument("--no-progress", action="store_true", help="hide progress bars")

    def handle(self, *args, **options) -> None:
        quiet = options["no_progress"]
        started = time.perf_counter()
        with tqdm(desc="import topics", unit="topic", disable=quiet, file=self.stderr) as bar:
            try:
                result = corpus.import_topics(
                    limit=options["limit"],
                    seed=options["seed"],
                    batch_size=options["batch"],
                    on_total=lambda n: setattr(bar, "total", n),
                    progress=bar.update,
                )
            except corpus.CorpusMissing as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"imported {result.created} topics ({result.existing} already there, owner "
            f"{corpus.CORPUS_USERNAME}) in {time.perf_counter() - started:.1f}s"
        )
        if not result.ids or options["no_index"] or not search.use_elasticsearch():
            return
        began = time.perf_counter()
        with tqdm(
            total=len(result.ids), desc="index topics", unit="doc", disable=quiet, file=self.stderr
        ) as bar:
            try:
                synced = search.sync_topics(topic_ids=result.ids, progress=bar.update)
            except SearchUnavailable as exc:
                self.stderr.write(
                    f"indexing skipped ({exc}); run `manage.py search_index --reconcile` later"
                )
                return
        seconds = time.perf_counter() - began
        self.stdout.write(
            f"indexed {synced.indexed} topics in {seconds:.1f}s "
            f"({synced.indexed / max(seconds, 1e-9):.0f} docs/s)"
        )
