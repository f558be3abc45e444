"""factory_boy factories of the question bank.

`LabelFactory` (owner: a teacher), `ExamLabelFactory`, `TopicFactory` (type 0 by default) with
options and answer consistent with its type (`options=False` skips option rows), and per-type
shortcuts `SingleTopicFactory` … `EssayTopicFactory`.
"""

import json

import factory
from factory.django import DjangoModelFactory

from apps.users.tests.factories import TeacherFactory
from apps.work.models import Label, Topic, TopicOption, TopicType

OPTION_SETS = {
    TopicType.SINGLE: [("A", "func", False), ("B", "def", True), ("C", "lambda", False)],
    TopicType.MULTIPLE: [("A", "list", True), ("B", "int", False), ("C", "dict", True)],
}
ANSWERS = {
    TopicType.SINGLE: "B",
    TopicType.MULTIPLE: "AC",
    TopicType.JUDGE: "true",
    TopicType.FILL: json.dumps(["Guido", "1991"]),
    TopicType.ESSAY: "Use a generator expression.",
}


class LabelFactory(DjangoModelFactory):
    """A non-exam label owned by a new teacher."""

    class Meta:
        model = Label
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"label-{n}")
    is_exam = False
    user = factory.SubFactory(TeacherFactory)


class ExamLabelFactory(LabelFactory):
    """An exam label (`is_exam=True`): its topics are hidden from students."""

    name = factory.Sequence(lambda n: f"exam-{n}")
    is_exam = True


class TopicFactory(DjangoModelFactory):
    """A live topic whose `answer` and option rows fit its `type` (API.md §2.4 rules)."""

    class Meta:
        model = Topic
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"Question {n}: which Python keyword?")
    type = TopicType.SINGLE
    score = 2.0
    description = factory.Sequence(lambda n: f"Details of question {n}")
    answer = factory.LazyAttribute(lambda o: ANSWERS[o.type])
    label = factory.SubFactory(LabelFactory)
    user = factory.SelfAttribute("label.user")

    @factory.post_generation
    def options(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        rows = extracted if extracted is not None else OPTION_SETS.get(obj.type, [])
        TopicOption.objects.bulk_create(
            TopicOption(topic=obj, key=k, text=t, is_correct=c) for k, t, c in rows
        )


class SingleTopicFactory(TopicFactory):
    type = TopicType.SINGLE


class MultipleTopicFactory(TopicFactory):
    type = TopicType.MULTIPLE


class JudgeTopicFactory(TopicFactory):
    type = TopicType.JUDGE


class FillTopicFactory(TopicFactory):
    type = TopicType.FILL


class EssayTopicFactory(TopicFactory):
    type = TopicType.ESSAY
