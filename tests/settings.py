"""Test settings: the production settings module with a throwaway secret and fast hashing.

Provider keys for tests are set per test by ``tests/conftest.py``; the environment's are
never used by the suite.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-anything-else")
os.environ.setdefault("DEMO_KEYS", "false")

from backoffice.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
