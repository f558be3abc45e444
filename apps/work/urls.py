"""URL routes of the work app, mounted under /api/work/ (API.md §2.3, §2.4)."""

from apps.work import views
from utils.drf import ApiRouter

router = ApiRouter()
router.register("labels", views.LabelViewSet, basename="labels")
router.register("topics", views.TopicViewSet, basename="topics")

urlpatterns = router.urls
