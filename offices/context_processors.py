"""The staff links of the site's menu: each only for the people it serves (a link that answers
404 or 403 to its reader is worse than none)."""

from django.utils.functional import SimpleLazyObject

from . import permissions


def staff_links(request):
    def links():
        user = request.user
        if not user.is_authenticated or not permissions.is_staff_member(user):
            return {"counter": False, "admin": False, "reports": False, "planning": False}
        return {
            "counter": permissions.serves_at_a_counter(user),
            "admin": True,
            "reports": permissions.reads_reports(user),
            "planning": permissions.takes_part_in_evaluations(user),
        }

    # Lazy, and from the user's memberships (read once per request): no query of its own.
    return {"staff_links": SimpleLazyObject(links)}
