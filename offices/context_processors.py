"""The staff links of the site's menu: each only for the people it serves (a link that answers
404 or 403 to its reader is worse than none)."""

from django.utils import translation
from django.utils.functional import SimpleLazyObject

from . import permissions
from .incidents import banner_incidents


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


def incident_banner(request):
    """Incidents going on or announced, for the banner every page shows (docs/incidents.md).
    Lazy, and read through the cache (offices.incidents.banner_incidents): a page whose template
    does not show the banner reads nothing, and one that does reads the cache."""
    return {"incident_banner": SimpleLazyObject(lambda: banner_incidents(language=translation.get_language()))}
