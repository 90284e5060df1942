"""Settings, read from the environment only (django-environ).

Every variable is documented in README.md and .env.example. Secrets have no default outside
demo mode: with DEMO_KEYS on (the default when DEBUG is on) the providers use the published
demo keys of ``providers/demo_keys/``, which exist for the demo and the tests only.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)
# Error pages and e-mails mask DATABASE_URL too: the app server copies the environment into
# every request's META (backoffice/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "backoffice.error_reports.SecretsFilter"
DEMO_KEYS: bool = env.bool("DEMO_KEYS", default=DEBUG)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-demo-only-secret-key-do-not-use")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # required: refuses to start without one

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "backoffice.apps.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The staff second factor (backoffice/second_factor/): authenticator-app codes, recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "backoffice.second_factor",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "journal",
    "wallet",
    "providers",
    "providers.vp.cards",
    "operator_api",
    "bench",
    "monitoring",
]

MIDDLEWARE = [
    # First: every later decision on HTTPS (redirect, secure cookies, CSRF) reads its scheme.
    "backoffice.proxy_scheme.TrustedProxySchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who passed a second-factor code, then: a password-only session reaches the sign-in pages
    # and nothing else (backoffice/second_factor/middleware.py).
    "django_otp.middleware.OTPMiddleware",
    "backoffice.second_factor.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, around the view only: the admin's and the finance exports' GET requests read the
    # hot standby when DATABASE_REPLICA_URL is set (wallet/db/replica.py).
    "wallet.db.replica.ReplicaReadsMiddleware",
]

# Provider callbacks (under /providers/) go through this shorter list (backoffice/wsgi.py):
# they use no session, user, CSRF token, message or static file. SecurityMiddleware keeps its
# headers and its HTTPS redirect on them; the views answer every error themselves, as JSON.
# No scheme middleware either: no provider view reads the scheme (the redirect exempts them).
PROVIDER_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
]

# DRF serves the provider callbacks, each view naming its own parser, authentication, renderer
# and exception handler; these defaults keep anything else lean: JSON only (no browsable API),
# no session or basic authentication, no throttling, and no anonymous-user object per request.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    # Only read when a schema is generated (the operator API's /api/v1/schema/).
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

#: The operator API's largest accepted JSON body; its requests are a few hundred bytes.
OPERATOR_API_MAX_BODY_BYTES: int = env.int("OPERATOR_API_MAX_BODY_BYTES", default=64 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Operator back office API",
    "DESCRIPTION": (
        "Players, cashier movements, game sessions, bets and their staff actions, the request "
        "journal, VP operator cards and finance reconciliation. Amounts are decimal strings, "
        "times ISO 8601 in UTC. Authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["operator_api.schema.only_operator_api"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "operator_api.schema.describe_errors",
        "operator_api.schema.describe_idempotency",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LedgerKindEnum": "wallet.models.LedgerKind",
        "BetKindEnum": "wallet.models.BetKind",
    },
    # Swagger UI's files come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backoffice" / "templates"],
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
# No DATABASE_URL: a SQLite file in the project folder, so the demo runs anywhere.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
WALLET_LOCK_TIMEOUT_MS: int = env.int("WALLET_LOCK_TIMEOUT_MS", default=2000)
# PostgreSQL reached through a pooler in transaction mode (PgBouncer pool_mode=transaction): a
# session lasts one transaction there. So no startup options (PgBouncer refuses them; the role
# carries lock_timeout: ALTER ROLE ... SET lock_timeout), no cursor held past its transaction,
# and no prepared statements unless the pooler keeps them (docs/operations.md, "PgBouncer").
DATABASE_TRANSACTION_POOLER: bool = env.bool("DATABASE_TRANSACTION_POOLER", default=False)

_db = DATABASES["default"]
_db.setdefault("OPTIONS", {})
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Every lock wait is bounded: past it PostgreSQL raises lock_not_available and the wallet
    # answers the provider's "try again" code instead of hanging past its timeout.
    if DATABASE_TRANSACTION_POOLER:
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        _db["OPTIONS"].setdefault("options", f"-c lock_timeout={WALLET_LOCK_TIMEOUT_MS}")
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A health check is one more round trip ("SELECT 1") at the start of every request. Without
    # it, a connection the database dropped fails one request (the provider gets its "try again"
    # code, nothing moves) and is then replaced. README "Performance" measures the difference.
    _db["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# The few statements every provider request runs (wallet/db/hot_sql.py) are prepared once per
# connection, at the protocol level: psycopg prepares a server-side binding cursor's statement
# on its first run when prepare_threshold is 0 (Django's ORM binds client-side and never
# prepares), and nothing when it is None. Off behind a pooler that does not keep prepared
# statements (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).
DATABASE_PREPARED_STATEMENTS: bool = env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=not DATABASE_TRANSACTION_POOLER
)
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["OPTIONS"].setdefault("prepare_threshold", 0 if DATABASE_PREPARED_STATEMENTS else None)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking
    # on a lock upgrade; the busy timeout is the same bound as PostgreSQL's lock_timeout.
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("timeout", WALLET_LOCK_TIMEOUT_MS / 1000)

# A hot standby for the admin's and the finance exports' reads, never a money read
# (wallet/db/replica.py). Connected the way the primary is.
DATABASE_REPLICA_URL: str = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in _db:
            _replica.setdefault(_key, _db[_key])
    _replica["OPTIONS"] = {**_db["OPTIONS"], **_replica.get("OPTIONS", {})}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["wallet.db.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"

# --- Security when not in DEBUG (behind TLS) --------------------------------------------------
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any client. Our
# proxies' header is read by backoffice.proxy_scheme, from TRUSTED_PROXIES only.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Providers call over plain HTTP inside some private networks; the redirect never applies there.
SECURE_REDIRECT_EXEMPT = [r"^providers/", r"^health/?$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Admin login lockout (backoffice/login_throttle.py) ---------------------------------------
# Failed admin logins are counted in the database, so every app server behind the load balancer
# sees the same count. Past either limit within the window, logins are refused (even with the
# right password) until the window has passed; a superuser can unlock earlier in the admin.
ADMIN_LOGIN_MAX_FAILURES: int = env.int("ADMIN_LOGIN_MAX_FAILURES", default=5)
ADMIN_LOGIN_MAX_FAILURES_PER_IP: int = env.int("ADMIN_LOGIN_MAX_FAILURES_PER_IP", default=20)
ADMIN_LOGIN_LOCKOUT_MINUTES: int = env.int("ADMIN_LOGIN_LOCKOUT_MINUTES", default=15)

# --- Staff second factor (backoffice/second_factor/) ---------------------------------------------
# On: every staff sign-in needs a code from an authenticator app after the password, and a login
# without one sets it up first. Off (the demo's default, with DEBUG): offered, not forced; a login
# that has set one up is still asked for its code.
STAFF_2FA_REQUIRED: bool = env.bool("STAFF_2FA_REQUIRED", default=not DEBUG)
# The name the authenticator app shows beside the codes.
OTP_TOTP_ISSUER = "Operator back office"
# Wrong codes are counted by the login lockout above, across servers and addresses; django-otp's
# own per-device back-off (1, 2, 4 ... seconds) would only add a second, different refusal.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# --- Support back office ------------------------------------------------------------------------
# How long an open bet may wait for its settle or cancel before support sees it as stuck:
# "<minutes>" for every provider and/or "<provider>:<minutes>" pairs, e.g. "15,naga:30".
STUCK_AFTER_MINUTES: str = env.str("STUCK_AFTER_MINUTES", default="jdb:10,vp:10,naga:10,buffalo:10")
# Four-eyes: a staff money action (manual adjustment, cancel and refund, resolve with a win)
# above this amount waits for a second person's approval. "<amount>" for every currency and/or
# "<CUR>:<amount>" pairs, e.g. "500,JPY:50000"; 0 means every action. Read by
# wallet.services.approvals. A proposal not decided within FOUR_EYES_EXPIRY_HOURS expires.
FOUR_EYES_THRESHOLD: str = env.str("FOUR_EYES_THRESHOLD", default="0")
FOUR_EYES_EXPIRY_HOURS: int = env.int("FOUR_EYES_EXPIRY_HOURS", default=24)

# --- Ledger tamper evidence (docs/ledger-chain.md) ------------------------------------------
# The HMAC key of the ledger's and the staff audit's hash chains. Never stored in the database:
# each connection receives it as a session setting (wallet/apps.py), or, behind a transaction
# pooler, the pooler's connect_query does (docs/operations.md, "PgBouncer").
if DEMO_KEYS:
    LEDGER_CHAIN_KEY: str = env.str(
        "LEDGER_CHAIN_KEY", default="insecure-demo-only-ledger-chain-key-do-not-use"
    )
else:
    LEDGER_CHAIN_KEY = env.str("LEDGER_CHAIN_KEY")  # required: refuses to start without one

# --- Finance ------------------------------------------------------------------------------------
# Largest provider statement finance may upload to the statement diff (bytes).
FINANCE_STATEMENT_MAX_BYTES: int = env.int("FINANCE_STATEMENT_MAX_BYTES", default=20 * 1024 * 1024)

# --- Provider framework -----------------------------------------------------------------------
# Addresses of our own load balancers / proxies: only when the direct peer is one of these do we
# believe the X-Forwarded-For header (rightmost untrusted hop wins).
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
PROVIDER_MAX_BODY_BYTES: int = env.int("PROVIDER_MAX_BODY_BYTES", default=64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(PROVIDER_MAX_BODY_BYTES, 10 * 1024 * 1024)
PLAYER_SESSION_TTL_SECONDS: int = env.int("PLAYER_SESSION_TTL_SECONDS", default=4 * 3600)


def _secret(name: str, demo_value: str) -> str:
    value: str = env.str(name, default="")
    return value or (demo_value if DEMO_KEYS else "")


from providers import demo_keys  # noqa: E402

# JDB (docs/providers/jdb.md)
JDB_AES_KEY = _secret("JDB_AES_KEY", demo_keys.JDB_AES_KEY)
JDB_AES_IV = _secret("JDB_AES_IV", demo_keys.JDB_AES_IV)
JDB_ALLOWED_IPS: list[str] = env.list("JDB_ALLOWED_IPS", default=[])
JDB_CURRENCY_MAP: str = env.str("JDB_CURRENCY_MAP", default="RB:CNY,RM:MYR")
JDB_CANCEL_SETTLED: str = env.str("JDB_CANCEL_SETTLED", default="keep")

# VP / VertexPlay (docs/providers/vp.md)
VP_AGENT_ID: str = env.str("VP_AGENT_ID", default=demo_keys.VP_AGENT_ID if DEMO_KEYS else "")
VP_API_KEY = _secret("VP_API_KEY", demo_keys.VP_API_KEY)
VP_SECRET_KEY = _secret("VP_SECRET_KEY", demo_keys.VP_SECRET_KEY)
VP_BASE_URL: str = env.str("VP_BASE_URL", default="")
VP_ALLOWED_IPS: list[str] = env.list("VP_ALLOWED_IPS", default=[])
VP_ROLLBACK_SETTLED: str = env.str("VP_ROLLBACK_SETTLED", default="keep")
VP_CONNECT_TIMEOUT: float = env.float("VP_CONNECT_TIMEOUT", default=3.0)
VP_READ_TIMEOUT: float = env.float("VP_READ_TIMEOUT", default=10.0)

# Naga Games (docs/providers/naga.md)
NAGA_PUBLIC_KEY = _secret("NAGA_PUBLIC_KEY", demo_keys.NAGA_PUBLIC_KEY_PATH)
NAGA_GROUP_CODE: str = env.str("NAGA_GROUP_CODE", default="DEMO" if DEMO_KEYS else "")
NAGA_BRAND_CODE: str = env.str("NAGA_BRAND_CODE", default="DBRD" if DEMO_KEYS else "")
NAGA_ALLOWED_IPS: list[str] = env.list("NAGA_ALLOWED_IPS", default=[])

# Buffalo (docs/providers/buffalo.md)
BUFFALO_AUTH_TOKEN = _secret("BUFFALO_AUTH_TOKEN", demo_keys.BUFFALO_AUTH_TOKEN)
BUFFALO_ALLOWED_IPS: list[str] = env.list("BUFFALO_ALLOWED_IPS", default=[])
BUFFALO_SID_METHOD_ENABLED: bool = env.bool("BUFFALO_SID_METHOD_ENABLED", default=False)

# --- Monitoring (docs/operations.md, "Monitoring") ------------------------------------------
# Who may read GET /metrics: direct peers in these addresses or networks ("10.0.0.0/8"), or a
# caller sending "Authorization: Bearer <METRICS_TOKEN>". Anyone else gets a 404.
METRICS_ALLOWED_IPS: list[str] = env.list("METRICS_ALLOWED_IPS", default=[])
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")

# --- Logging: one line per event on stdout; never a secret (adapters redact before logging) ---
# LOG_FORMAT=json: one JSON object per line, and one line per provider request (logger
# "providers.requests": request id, provider, action, bet key, outcome, latency).
LOG_FORMAT: str = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "monitoring.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Plain text (the demo) leaves the per-request lines out: the journal has them.
        "providers.requests": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
