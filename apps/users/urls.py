"""URL routes of the users app, mounted under /api/users/ (API.md §2.1)."""

from django.urls import path

from apps.users import views
from utils.drf import ApiRouter

router = ApiRouter()
router.register("users", views.UserViewSet, basename="users")
router.register("area", views.AreaViewSet, basename="area")
router.register("address", views.AddressViewSet, basename="address")

urlpatterns = [
    path("image/verification/<uuid:uuid>/", views.CaptchaView.as_view(), name="captcha"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/refresh/", views.RefreshView.as_view(), name="login-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/set/", views.PasswordSetView.as_view(), name="password-set"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/password/", views.MePasswordView.as_view(), name="me-password"),
    path("me/avatar/", views.MeAvatarView.as_view(), name="me-avatar"),
    *router.urls,
]
