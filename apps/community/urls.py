"""URL routes of the community app, mounted under /api/community/ (API.md §2.5)."""

from rest_framework.routers import DefaultRouter

from apps.community import views

router = DefaultRouter()
router.register("articles", views.ArticleViewSet, basename="articles")
router.register("comments", views.CommentViewSet, basename="comments")

urlpatterns = router.urls
