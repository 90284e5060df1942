"""Four-eyes fixtures: a proposer (Support), two approvers, and a threshold of 50 USD."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import alice, as_user, staff
from tests.operator_api.conftest import keys

__all__ = ["alice", "as_user", "keys"]  # the admin's and the API's fixtures, used here too

#: The suite's default (tests/settings.py) holds nothing; these tests hold above 50 USD.
THRESHOLD = "50,JPY:5000"


@pytest.fixture(autouse=True)
def _four_eyes(settings: Any) -> None:
    settings.FOUR_EYES_THRESHOLD = THRESHOLD
    settings.FOUR_EYES_EXPIRY_HOURS = 24


@pytest.fixture
def proposer(db: Any) -> Any:
    return staff("sam_support", "Support")


@pytest.fixture
def approver(db: Any) -> Any:
    return staff("ada_approver", "Approver")


@pytest.fixture
def second_approver(db: Any) -> Any:
    return staff("abe_approver", "Approver")
