"""The support pages' fixtures (staff, a player), for the tests of a bet's requests."""

from tests.admin.conftest import alice, as_user, readonly_user

__all__ = ["alice", "as_user", "readonly_user"]
