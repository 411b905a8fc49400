from tests.staff_world import world  # noqa: F401 - the offices, staff and applications of the scoping tests
