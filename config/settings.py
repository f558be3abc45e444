"""Django settings for stsys, read from the environment with django-environ (API.md §0).

Nothing set → the embedded default: SQLite, local-memory caches, Celery eager, console mail,
file-system storage, database search backend and the offline Alipay simulator. Every variable
is listed in `.env.example`; a set variable always wins over the embedded default.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# `<NAME>_FILE` (a Docker secret path) is read too, also where docker/entrypoint.sh does not run
# (healthchecks, `docker compose exec`)
env = environ.FileAwareEnv()
environ.Env.read_env(BASE_DIR / ".env")  # optional file; real environment variables win

DEBUG = env.bool("DEBUG", default=True)  # embedded default = local run; deploy/ sets false
SECRET_KEY = env.str(
    "SECRET_KEY", default="local-insecure-stsys-key-only-for-debug" if DEBUG else environ.Env.NOTSET
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
TESTING = env.bool("TESTING", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.users",
    "apps.school",
    "apps.work",
    "apps.community",
    "apps.shopping",
]

MIDDLEWARE = [
    "utils.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Admin flash messages live in the admin's session. Django's default (cookie storage first) builds a
# cookie signer for every request, API calls included (about 5% of a bare request's instructions,
# bench/instructions.py).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
for _db in [DATABASES["default"]]:
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        # concurrent writers wait instead of failing with "database is locked" (API.md §0)
        _db.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    elif _db["ENGINE"] == "django.db.backends.mysql":
        _db.setdefault("OPTIONS", {}).update(
            {
                "charset": "utf8mb4",
                "connect_timeout": 5,  # seconds: a database that stops answering fails fast
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
                "isolation_level": "read committed",
            }
        )
        _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # seconds
        _db["CONN_HEALTH_CHECKS"] = True
        _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}

DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
for _i, _url in enumerate(DATABASE_REPLICA_URLS):
    _replica = env.db_url_config(_url)
    _replica.setdefault("OPTIONS", {}).update(DATABASES["default"].get("OPTIONS", {}))
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_i}"] = _replica
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["utils.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(1, "utils.db_router.ReplicaPinMiddleware")  # deploy: per-request read pin

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 72 * 3600  # seconds; set-password links (API.md §2.1)
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# --- Redis and caches (API.md §0: db 0 cache, 1 captcha, 2 broker, 3 results, 4 area) ---------
REDIS_URL = env.str("REDIS_URL", default="").rstrip("/")
REDIS_DB_BASE = env.int("REDIS_DB_BASE", default=0)  # shifts db numbers (parallel test runs)


def _redis_cache(db: int, prefix: str) -> dict:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"{REDIS_URL}/{REDIS_DB_BASE + db}",
        "KEY_PREFIX": prefix,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,  # seconds
            "SOCKET_TIMEOUT": 2,  # seconds
        },
    }


def _local_cache(name: str) -> dict:
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}


if REDIS_URL:
    CACHES = {
        "default": _redis_cache(0, env.str("CACHE_PREFIX", default="stsys")),
        "verify_codes": _redis_cache(1, ""),
        "area": _redis_cache(4, env.str("CACHE_PREFIX", default="stsys")),
    }
else:
    CACHES = {name: _local_cache(name) for name in ("default", "verify_codes", "area")}
# Per-process copies of versioned response bodies (utils.cache.LocalFirstCache; used only in
# front of Redis). Entries are LRU-culled past MAX_ENTRIES, each lives at most TIMEOUT seconds;
# bodies over 64 KiB are not copied, so a process holds at most MAX_ENTRIES × 64 KiB (32 MiB).
CACHES["local"] = {
    **_local_cache("local"),
    "TIMEOUT": 3600,  # seconds
    "OPTIONS": {"MAX_ENTRIES": env.int("LOCAL_CACHE_MAX_ENTRIES", default=500)},
}

# --- Celery (JSON only, acks_late; eager without a broker) -----------------------------------
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"{REDIS_URL}/{REDIS_DB_BASE + 2}" if REDIS_URL else ""
)
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=f"{REDIS_URL}/{REDIS_DB_BASE + 3}" if REDIS_URL else ""
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers and beat keep LOGGING (file, request-id format)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}  # seconds
CELERY_TASK_ROUTES = {
    "apps.*.tasks.send_*": {"queue": "mail"},
    "apps.work.tasks.*": {"queue": "search"},
    "apps.community.tasks.article_index*": {"queue": "search"},
    "apps.community.tasks.article_re*": {"queue": "search"},  # community: rebuild, reconcile
    "apps.shopping.tasks.*": {"queue": "payment"},
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_QUEUES_ALL = "default,mail,search,payment"

# --- Elasticsearch ---------------------------------------------------------------------------
ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="")
ELASTICSEARCH_INDEX_PREFIX = env.str("ELASTICSEARCH_INDEX_PREFIX", default="")
ELASTICSEARCH_SHARDS = env.int("ELASTICSEARCH_SHARDS", default=1)
ELASTICSEARCH_REPLICAS = env.int("ELASTICSEARCH_REPLICAS", default=0)
ELASTICSEARCH_TIMEOUT = env.float("ELASTICSEARCH_TIMEOUT", default=5.0)  # seconds
SEARCH_BACKEND = "elasticsearch" if ELASTICSEARCH_URL else "database"

# --- Mail ------------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000").rstrip("/")
EMAIL_TIMEOUT = 10  # seconds

# --- File storage: FastDFS in production, file system by default ------------------------------
FASTDFS_TRACKERS = env.list("FASTDFS_TRACKERS", default=[])
FASTDFS_BASE_URL = env.str("FASTDFS_BASE_URL", default="").rstrip("/")
FASTDFS_TIMEOUT = env.int("FASTDFS_TIMEOUT", default=10)  # seconds
STORAGES = {
    "default": {
        "BACKEND": "utils.fastdfs.FastDFSStorage"
        if FASTDFS_TRACKERS
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_SIZE = 2 * 1024 * 1024  # bytes (API.md §1.8)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # bytes; JSON enrolment bodies of 2000 rows

# --- Alipay ----------------------------------------------------------------------------------
ALIPAY_SIMULATOR = env.bool("ALIPAY_SIMULATOR", default=DEBUG)
if ALIPAY_SIMULATOR and not DEBUG:
    raise ImproperlyConfigured("ALIPAY_SIMULATOR cannot be enabled when DEBUG is off.")
ALIPAY_APP_ID = env.str("ALIPAY_APP_ID", default="")
ALIPAY_APP_PRIVATE_KEY = env.str("ALIPAY_APP_PRIVATE_KEY", default="", multiline=True)
ALIPAY_APP_PRIVATE_KEY_FILE = env.str("ALIPAY_APP_PRIVATE_KEY_FILE", default="")
ALIPAY_PUBLIC_KEY = env.str("ALIPAY_PUBLIC_KEY", default="", multiline=True)
ALIPAY_PUBLIC_KEY_FILE = env.str("ALIPAY_PUBLIC_KEY_FILE", default="")
ALIPAY_GATEWAY = env.str("ALIPAY_GATEWAY", default="sandbox")  # sandbox | production | URL
ALIPAY_NOTIFY_URL = env.str(
    "ALIPAY_NOTIFY_URL", default="http://127.0.0.1:8000/api/shopping/payment/notify/"
)
ALIPAY_RETURN_URL = env.str("ALIPAY_RETURN_URL", default="http://127.0.0.1:8000/pay/return")
ORDER_PAY_TIMEOUT = env.int("ORDER_PAY_TIMEOUT", default=30 * 60)  # seconds
ORDER_FREIGHT = env.str("ORDER_FREIGHT", default="0.00")  # yuan

# --- REST framework --------------------------------------------------------------------------
_auth_classes = ["apps.users.authentication.JWTAuthentication"]
_renderers = ["rest_framework.renderers.JSONRenderer"]
if DEBUG:
    _auth_classes.append("rest_framework.authentication.SessionAuthentication")
    _renderers.append("rest_framework.renderers.BrowsableAPIRenderer")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": _auth_classes,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": _renderers,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "utils.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "utils.drf.PageNumberPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "utils.drf.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "utils.throttling.AnonRateThrottle",  # one Redis round trip (utils/throttling.py)
        "utils.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="1000/hour"),
        "captcha": env.str("THROTTLE_CAPTCHA", default="20/min"),
        "login": env.str("THROTTLE_LOGIN", default="10/min"),
        "password_set": env.str("THROTTLE_PASSWORD_SET", default="10/min"),
        "search": env.str("THROTTLE_SEARCH", default="60/min"),
        "order_create": env.str("THROTTLE_ORDER_CREATE", default="20/min"),
        "enrol": env.str("THROTTLE_ENROL", default="30/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,  # 0: REMOTE_ADDR only (None would trust X-Forwarded-For)
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": SECRET_KEY,
}

REST_FRAMEWORK_EXTENSIONS = {
    "DEFAULT_CACHE_RESPONSE_TIMEOUT": 3600,  # seconds
    "DEFAULT_USE_CACHE": "default",
    "DEFAULT_CACHE_ERRORS": False,
}
AREA_CACHE_TIMEOUT = 3600  # seconds (API.md §1.7)

SPECTACULAR_SETTINGS = {
    "TITLE": "stsys API",
    "DESCRIPTION": "Learning-exchange platform: users, school, work, community, shopping.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security (production) -------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Logging: stdout, one line per record with the request id ---------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FILE = env.str("LOG_FILE", default="")
_handlers = {
    "console": {
        "class": "logging.StreamHandler",
        "formatter": "line",
        "filters": ["request_id"],
    }
}
if LOG_FILE:
    _handlers["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "formatter": "line",
        "filters": ["request_id"],
    }
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "utils.middleware.RequestIdFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
        }
    },
    "handlers": _handlers,
    "root": {"handlers": list(_handlers), "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "elastic_transport": {"level": "WARNING"},
    },
}

# Redis down: cached reads and throttles degrade to "miss" instead of failing the request;
# captcha/login use the raw client and answer 503 (API.md §1.5).
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
