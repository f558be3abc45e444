"""Question bank: labels, topics (questions) and their options (API.md §2.3, §2.4, §3)."""

from django.conf import settings
from django.db import models

from utils.models import DateTimeModelsMixin, ModelsSetMixin


class Label(DateTimeModelsMixin):
    """A topic label owned by the teacher who created it; `is_exam` hides its topics from students.

    Replaces the seed's "label name contains 考试" rule (API.md §4.6).
    """

    name = models.CharField(max_length=30, unique=True, verbose_name="标签名")
    is_exam = models.BooleanField(default=False, verbose_name="考试标签")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="labels",
        verbose_name="创建者",
    )

    class Meta:
        db_table = "label"
        verbose_name = "标签"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-id"]

    def __str__(self) -> str:
        return self.name


class TopicType(models.IntegerChoices):
    """`Topic.type` values (API.md §2.4)."""

    SINGLE = 0, "单选题"
    MULTIPLE = 1, "多选题"
    JUDGE = 2, "判断题"
    FILL = 3, "填空题"
    ESSAY = 4, "问答题"


CHOICE_TYPES = frozenset({TopicType.SINGLE, TopicType.MULTIPLE})


class Topic(ModelsSetMixin):
    """A question. `answer` is teacher-only data; for types 0/1 it is derived from the correct option keys.

    `answer` per type: 0/1 correct keys ("AC"), 2 "true"/"false", 3 JSON list of blanks, 4 free text.
    Soft-deleted with `is_delete`. The composite index (is_delete, update_time) serves the default list
    ordering without a filesort; (is_delete, label) lets the list's count read only that index
    (both checked by `apps/work/tests/test_mariadb_explain.py`).
    """

    subject = models.TextField(verbose_name="题干")
    type = models.PositiveSmallIntegerField(choices=TopicType.choices, verbose_name="题型")
    score = models.FloatField(null=True, blank=True, verbose_name="分值")
    description = models.TextField(null=True, blank=True, verbose_name="描述")  # noqa: DJ001
    answer = models.TextField(null=True, blank=True, verbose_name="答案")  # noqa: DJ001
    label = models.ForeignKey(
        Label, on_delete=models.PROTECT, related_name="topics", verbose_name="标签"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="topics",
        verbose_name="创建者",
    )

    class Meta:
        db_table = "topic"
        verbose_name = "题目"
        verbose_name_plural = verbose_name
        ordering = ["-update_time", "-id"]
        indexes = [
            models.Index(fields=["is_delete", "update_time"], name="topic_live_updated_idx"),
            # covers the list's COUNT(*) (is_delete + label_id NOT IN exam labels): no row reads
            models.Index(fields=["is_delete", "label"], name="topic_live_label_idx"),
        ]

    def __str__(self) -> str:
        return self.subject[:50]


class TopicOption(models.Model):
    """One option of a choice topic (types 0/1); replaced as a whole when the topic is written."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="options", verbose_name="题目"
    )
    key = models.CharField(max_length=2, verbose_name="选项")
    text = models.CharField(max_length=1000, verbose_name="选项内容")
    is_correct = models.BooleanField(default=False, verbose_name="是否正确")

    class Meta:
        db_table = "topic_option"
        verbose_name = "选项"
        verbose_name_plural = verbose_name
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "key"], name="topic_option_topic_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.key}. {self.text[:30]}"
