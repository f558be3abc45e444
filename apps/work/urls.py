"""URL routes of the work app, mounted under /api/work/ (API.md §2.3, §2.4)."""

from rest_framework.routers import DefaultRouter

from apps.work import views

router = DefaultRouter()
router.register("labels", views.LabelViewSet, basename="labels")
router.register("topics", views.TopicViewSet, basename="topics")

urlpatterns = router.urls
