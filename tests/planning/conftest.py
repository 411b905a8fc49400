from tests.staff_world import world  # noqa: F401 - the offices and staff of the scoping tests
