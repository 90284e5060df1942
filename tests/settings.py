"""Test settings: the production settings module with a throwaway secret and fast hashing.

Provider keys for tests are set per test by ``tests/conftest.py``; the environment's are
never used by the suite.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-anything-else")
os.environ.setdefault("DEMO_KEYS", "false")
os.environ.setdefault("LEDGER_CHAIN_KEY", "test-only-ledger-chain-key-not-for-anything-else")

from backoffice.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
# Off for the suite: its tests sign staff in with force_login(), which knows no second factor.
# The second factor's own tests turn it on (tests/admin/test_second_factor*.py,
# tests/browser/test_second_factor.py), and one of them checks that every admin URL refuses a
# password-only session, so a page added later is covered with the setting on.
STAFF_2FA_REQUIRED = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Four-eyes holds nothing by default in the suite: no amount is above the largest balance, so
# the staff-action tests written before it keep testing the action itself (applied at once).
# The four-eyes tests set their own threshold (tests/approvals/, tests/browser/test_four_eyes.py).
FOUR_EYES_THRESHOLD = "99999999999999.999999"
# A second alias for the same test database, as DATABASE_REPLICA_URL would add for a standby:
# tests/wallet/test_replica_router.py installs the router and sees which reads reach it.
# Without the router (every other test) nothing is sent to it.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
DATABASE_ROUTERS = []
