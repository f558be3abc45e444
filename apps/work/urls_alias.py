"""`/api/topics/search/`: the contract's top-level alias of the topic search (API.md §2.4).

Mounted by `config.urls` at `api/topics/`; the same view as `/api/work/topics/search/`.
"""

from django.urls import path

from apps.work import views

urlpatterns = [
    path(
        "search/",
        views.TopicViewSet.as_view({"get": "search"}, **views.TopicViewSet.search.kwargs),
        name="topic-search",
    ),
]
