"""``manage.py check --deploy`` under production settings: silent when everything is set, loud
(an error id per problem) when a provider secret is missing, malformed or unusable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from backoffice.checks import provider_secrets
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.reliability.conftest import public_pem

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET_KEY = "k3J!q9vX#2mR7tZ$w5yB8nC@4hF6dL1sP0gA^eU&iO*jT-rM+xQ=zN_bV%cY"


def production_env(naga_public_pem: str, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a production deployment behind TLS, with every provider set."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "false",
        "DEMO_KEYS": "false",
        "SECRET_KEY": STRONG_SECRET_KEY,
        "LEDGER_CHAIN_KEY": "9f2c4e1a7b3d5f6e8a0c2b4d6f8e1a3c5b7d9f0e2a4c6b8d1f3e5a7c9b0d2f4e",
        "ALLOWED_HOSTS": "backoffice.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://backoffice.example.com",
        "TRUSTED_PROXIES": "10.0.0.10,10.0.0.11",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "JDB_AES_KEY": str(TEST_PROVIDER_SETTINGS["JDB_AES_KEY"]),
        "JDB_AES_IV": str(TEST_PROVIDER_SETTINGS["JDB_AES_IV"]),
        "JDB_ALLOWED_IPS": "203.0.113.0/28",
        "VP_AGENT_ID": str(TEST_PROVIDER_SETTINGS["VP_AGENT_ID"]),
        "VP_API_KEY": str(TEST_PROVIDER_SETTINGS["VP_API_KEY"]),
        "VP_SECRET_KEY": str(TEST_PROVIDER_SETTINGS["VP_SECRET_KEY"]),
        "VP_BASE_URL": "https://vp-api.example.com",
        "NAGA_PUBLIC_KEY": naga_public_pem.replace("\n", "\\n"),
        "NAGA_GROUP_CODE": "ABCD",
        "NAGA_BRAND_CODE": "WXYZ",
        "BUFFALO_AUTH_TOKEN": str(TEST_PROVIDER_SETTINGS["BUFFALO_AUTH_TOKEN"]),
    }
    env.update(overrides)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def naga_public(naga_key: Any) -> str:
    return public_pem(naga_key)


def test_production_settings_pass_the_deploy_checks_without_a_warning(
    naga_public: str, tmp_path: Path
) -> None:
    done = check_deploy(production_env(naga_public, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_the_naga_key_may_be_a_file_path(naga_public: str, tmp_path: Path) -> None:
    pem = tmp_path / "naga_public.pem"
    pem.write_text(naga_public)
    done = check_deploy(production_env(naga_public, tmp_path, NAGA_PUBLIC_KEY=str(pem)))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"DEMO_KEYS": "true"}, "backoffice.E001"),
        ({"NAGA_PUBLIC_KEY": "/nonexistent/naga.pem"}, "backoffice.E004"),
        ({"BUFFALO_AUTH_TOKEN": ""}, "backoffice.W002"),
        ({"TRUSTED_PROXIES": ""}, "backoffice.W001"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"STAFF_2FA_REQUIRED": "false"}, "backoffice.W004"),
        ({"LEDGER_CHAIN_KEY": "too-short-to-be-a-key"}, "backoffice.E011"),
    ],
)
def test_a_production_mistake_fails_the_deploy_checks(
    naga_public: str, tmp_path: Path, overrides: dict[str, str], expected: str
) -> None:
    done = check_deploy(production_env(naga_public, tmp_path, **overrides))
    assert done.returncode != 0
    assert expected in done.stdout + done.stderr


# --- each check on its own (no subprocess) ----------------------------------------------------


def ids(**overrides: Any) -> set[str]:
    values = {"DEMO_KEYS": False, "TRUSTED_PROXIES": ["10.0.0.10"], **overrides}
    with override_settings(**values):
        return {message.id or "" for message in provider_secrets()}


@pytest.fixture
def configured(settings: Any, naga_public: str) -> None:
    settings.NAGA_PUBLIC_KEY = naga_public
    settings.VP_BASE_URL = "https://vp-api.example.com"


@pytest.mark.usefixtures("configured")
def test_the_test_configuration_is_clean() -> None:
    assert ids() == set()


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"JDB_AES_KEY": "short"}, "backoffice.E002"),
        ({"VP_API_KEY": "not hex"}, "backoffice.E003"),
        (
            {"NAGA_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
            "backoffice.E004",
        ),
        (
            {"BUFFALO_AUTH_TOKEN": "has spaces and is far too long for Buffalo's token"},
            "backoffice.E005",
        ),
        ({"NAGA_GROUP_CODE": "TOOLONG"}, "backoffice.E006"),
        ({"JDB_ALLOWED_IPS": ["203.0.113.7", "not-an-ip"]}, "backoffice.E007"),
        ({"TRUSTED_PROXIES": ["10.0.0.300"]}, "backoffice.E007"),
        ({"VP_ROLLBACK_SETTLED": "refund"}, "backoffice.E008"),
        ({"JDB_CURRENCY_MAP": "RB=CNY"}, "backoffice.E009"),
        ({"VP_API_KEY": ""}, "backoffice.W002"),
        ({"VP_BASE_URL": "http://vp-api.example.com"}, "backoffice.W003"),
    ],
)
def test_each_provider_misconfiguration_has_its_own_id(
    overrides: dict[str, Any], expected: str
) -> None:
    assert expected in ids(**overrides)
