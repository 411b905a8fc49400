import pytest

from offices import permissions


def codes(queryset):
    return set(queryset.values_list("code", flat=True))


ALL = {"kanim-kediri", "kanim-malang", "ulp-malang", "kanim-denpasar"}


@pytest.mark.parametrize(
    "user, visible, quota, counter",
    [
        ("kediri_officer", {"kanim-kediri"}, set(), {"kanim-kediri"}),
        ("kediri_head", {"kanim-kediri"}, {"kanim-kediri"}, {"kanim-kediri"}),
        # A Kanim head answers for the Kanim's outlets; its officers are posted to the Kanim only.
        ("malang_head", {"kanim-malang", "ulp-malang"}, {"kanim-malang", "ulp-malang"}, {"kanim-malang", "ulp-malang"}),
        ("malang_officer", {"kanim-malang"}, set(), {"kanim-malang"}),
        ("jatim_regional", {"kanim-kediri", "kanim-malang", "ulp-malang"}, set(), set()),
        ("bali_regional", {"kanim-denpasar"}, set(), set()),
        ("national", ALL, ALL, set()),
        ("superuser", ALL, ALL, ALL),
        ("applicant", set(), set(), set()),
    ],
)
def test_who_sees_and_changes_which_offices(world, user, visible, quota, counter):
    user = getattr(world, user)
    assert codes(permissions.visible_offices(user)) == visible
    assert codes(permissions.quota_offices(user)) == quota
    assert codes(permissions.counter_offices(user)) == counter


def test_inactive_staff_sees_nothing(world):
    world.kediri_head.is_active = False
    world.kediri_head.save()
    assert not permissions.visible_offices(world.kediri_head).exists()
    assert not permissions.can_serve(world.kediri_head, world.kediri.pk)
