"""Who sees what: which offices a staff user may read, and which they may change.

One place answers it for the admin, the counter and the exports, from `StaffMembership`:

| role     | reads                                   | changes                                          |
|----------|-----------------------------------------|--------------------------------------------------|
| officer  | their office                            | their office's applications (counter, actions)   |
| head     | their office, and its outlets if a Kanim | applications, quota rules, programmes, overrides |
| regional | every office of their region            | nothing (supervises and reads reports)           |
| national | every office                            | quota data and fees; not applications            |
| superuser| every office                            | everything                                       |

A Kanim head's outlets (ULP, UKK, MPP booths with `parent` = the Kanim) are included: the
head of a Kantor Imigrasi answers for its outlets' quotas (each outlet has its own daily
quota), so they set those quotas. An officer is posted to one counter, so an officer of the
Kanim does not see its outlets; an outlet's officers get their own membership.
National staff change quota data (they set the national Saturday service) but leave an
individual applicant's file to the office that serves them.
"""

from django.db.models import Q, QuerySet

from .models import Office, Region, StaffMembership

Role = StaffMembership.Role


def _memberships(user) -> list[StaffMembership]:
    # Cached on the user object for the request: every admin screen asks several times.
    cached = getattr(user, "_staff_memberships", None)
    if cached is None:
        cached = list(StaffMembership.objects.filter(user=user).select_related("office"))
        user._staff_memberships = cached
    return cached


def is_staff_member(user) -> bool:
    """Staff of some office, region or the directorate (or a superuser)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or bool(_memberships(user))


def sees_all(user) -> bool:
    return user.is_superuser or any(m.role == Role.NATIONAL for m in _memberships(user))


def _office_q(memberships, *, include_outlets: bool) -> Q:
    ids = [m.office_id for m in memberships]
    q = Q(pk__in=ids)
    if include_outlets:
        q |= Q(parent_id__in=ids)
    return q


def visible_offices(user) -> QuerySet[Office]:
    """Offices whose data this user may read."""
    return _readable_offices(user, roles=(Role.OFFICER, Role.HEAD, Role.REGIONAL))


def report_offices(user) -> QuerySet[Office]:
    """Offices whose reports this user reads: as `visible_offices`, but counter officers run
    the day and read no reports."""
    return _readable_offices(user, roles=(Role.HEAD, Role.REGIONAL))


def _readable_offices(user, *, roles) -> QuerySet[Office]:
    if not is_staff_member(user):
        return Office.objects.none()
    if sees_all(user):
        return Office.objects.all()
    memberships = [m for m in _memberships(user) if m.role in roles]
    q = Q(pk__in=[])
    for m in memberships:
        if m.role == Role.OFFICER:
            q |= Q(pk=m.office_id)
        elif m.role == Role.HEAD:
            q |= Q(pk=m.office_id) | Q(parent_id=m.office_id)
        elif m.role == Role.REGIONAL:
            q |= Q(region_id=m.region_id)
    return Office.objects.filter(q)


def quota_offices(user) -> QuerySet[Office]:
    """Offices whose quota rules, programmes, overrides and slots this user may change."""
    if not is_staff_member(user):
        return Office.objects.none()
    if sees_all(user):
        return Office.objects.all()
    heads = [m for m in _memberships(user) if m.role == Role.HEAD]
    if not heads:
        return Office.objects.none()
    return Office.objects.filter(_office_q(heads, include_outlets=True))


def counter_offices(user) -> QuerySet[Office]:
    """Offices whose applicants this user serves: check-in, walk-ins, status actions, full NIK."""
    if not is_staff_member(user):
        return Office.objects.none()
    if user.is_superuser:
        return Office.objects.all()
    memberships = _memberships(user)
    officers = [m for m in memberships if m.role == Role.OFFICER]
    heads = [m for m in memberships if m.role == Role.HEAD]
    q = _office_q(officers, include_outlets=False) | _office_q(heads, include_outlets=True)
    if not officers and not heads:
        return Office.objects.none()
    return Office.objects.filter(q)


def serves_at_a_counter(user) -> bool:
    """Whether `counter_offices` has any office for this user, from the memberships alone."""
    return is_staff_member(user) and (
        user.is_superuser or any(m.role in (Role.OFFICER, Role.HEAD) for m in _memberships(user))
    )


def reads_reports(user) -> bool:
    """Whether `report_offices` has any office for this user, from the memberships alone."""
    return is_staff_member(user) and (
        sees_all(user) or any(m.role in (Role.HEAD, Role.REGIONAL) for m in _memberships(user))
    )


def reviews_flags(user) -> bool:
    """National and regional staff review hoarding flags of accounts (appointments.admin_flags)."""
    return is_staff_member(user) and (sees_all(user) or any(m.role == Role.REGIONAL for m in _memberships(user)))


def region_offices(user) -> QuerySet[Office]:
    """The offices of this user's regions (every office for national staff): whose applicants'
    accounts a reviewer of flags sees."""
    return _readable_offices(user, roles=(Role.REGIONAL,))


def office_ids(queryset: QuerySet[Office]) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def can_serve(user, office_id: int | None) -> bool:
    return office_id is not None and counter_offices(user).filter(pk=office_id).exists()


def can_manage_fees(user) -> bool:
    return is_staff_member(user) and sees_all(user)


def division_regions(user) -> QuerySet[Region]:
    """Regions whose offices this user supervises as the regional division (capacity evaluation
    rounds): their own region for Kanwil staff, every region for the directorate."""
    if not is_staff_member(user):
        return Region.objects.none()
    if sees_all(user):
        return Region.objects.all()
    return Region.objects.filter(pk__in=[m.region_id for m in _memberships(user) if m.role == Role.REGIONAL])


def takes_part_in_evaluations(user) -> bool:
    """Whether this user submits (an office head) or decides (the regional division, the
    directorate) capacity evaluations, from the memberships alone."""
    return reads_reports(user)


def declares_incidents(user) -> bool:
    """National staff, the regional divisions and office heads declare incidents."""
    return is_staff_member(user) and (
        sees_all(user) or any(m.role in (Role.REGIONAL, Role.HEAD) for m in _memberships(user))
    )


def may_declare_incident(user, *, scope: str, region_id: int | None, office: Office | None) -> bool:
    """Whether `user` may declare (or change) an incident of this scope: national staff any scope,
    a regional division its region or one of its offices, an office head their office (and, for a
    Kanim, its outlets: the head answers for them as for their quotas)."""
    if not is_staff_member(user):
        return False
    if sees_all(user):
        return True
    memberships = _memberships(user)
    regions = {m.region_id for m in memberships if m.role == Role.REGIONAL}
    if scope == "region":
        return region_id in regions
    if scope == "office" and office is not None:
        if office.region_id in regions:
            return True
        heads = {m.office_id for m in memberships if m.role == Role.HEAD}
        return office.pk in heads or (office.parent_id is not None and office.parent_id in heads)
    return False


def declarable_offices(user) -> list[Office]:
    """The offices for which `user` may declare an incident of one office (and serve a day by
    walk-in for one)."""
    offices = Office.objects.select_related("region")
    if not sees_all(user):
        offices = offices.filter(Q(pk__in=quota_offices(user)) | Q(region__in=division_regions(user)))
    return [office for office in offices if may_declare_incident(user, scope="office", region_id=None, office=office)]
