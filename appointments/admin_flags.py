"""The review queue of hoarding flags (accounts.AccountFlag), for national and regional staff.

A flag belongs to an account, not to an office: regional staff see the flags of accounts that
applied at one of their region's offices, and of those applications only the ones there. The
reviewer lifts a flag (and its restriction) or blocks the account, through accounts' services;
the flag's history records who decided what. Nobody adds, edits or deletes flags here."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.hoarding import BLOCKED, hoarding_rules
from accounts.models import AccountFlag
from accounts.services import block_account, lift_flag
from offices import permissions
from offices.admin_scoping import ReadOnlyHistoryAdmin

from .models import Application


def _in_scope(applications, user):
    """Applications at the offices of the reviewer's regions (all of them for national staff)."""
    if permissions.sees_all(user):
        return applications
    return applications.filter(slot__office__in=permissions.region_offices(user))


def _local(value):
    if value is None:
        return "–"
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'j M Y, H:i')} {local.tzname()}"


@admin.register(AccountFlag)
class AccountFlagAdmin(ReadOnlyHistoryAdmin):
    list_display = ("raised", "account", "rule_and_count", "restriction", "state")
    list_filter = ("state", "rule")
    search_fields = ("account__email",)
    list_select_related = ("account",)
    fields = (
        "account",
        "account_state",
        "why",
        "count",
        "subject",
        "counted_from",
        "raised",
        "restriction",
        "state",
        "decided_by",
        "decided",
        "note",
        "other_flags",
        "applications",
    )
    change_form_template = "admin/accounts/accountflag/change_form.html"

    # -- scope and rights --------------------------------------------------------------
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if permissions.sees_all(request.user):
            return qs
        return qs.filter(Exists(_in_scope(Application.objects.filter(account=OuterRef("account")), request.user)))

    def has_module_permission(self, request):
        return permissions.reviews_flags(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.reviews_flags(request.user) and (
            obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()
        )

    def has_change_permission(self, request, obj=None):
        return False  # a flag is decided on its page (decide_view), never edited

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None or not self.has_view_permission(request, obj):
            return None
        obj.reviewer = request.user  # read-only fields get no request: the applications shown need it
        return obj

    # -- the decision: two buttons on the flag's page, posted to one view, each one service ---
    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [path("<int:flag_id>/decide/", decide, name="accounts_accountflag_decide"), *super().get_urls()]

    def decide_view(self, request, flag_id: int):
        """Outside the change form's transaction: the services own theirs."""
        if request.method != "POST":
            raise Http404
        flag = self.get_object(request, str(flag_id))
        if flag is None:
            raise Http404
        note = request.POST.get("note", "")
        if flag.state == AccountFlag.State.OPEN and "_lift" in request.POST:
            lift_flag(flag_id=flag.pk, actor=request.user, note=note)
            self.message_user(request, _("The flag is lifted, with its restriction."), messages.SUCCESS)
        elif flag.state == AccountFlag.State.OPEN and "_block" in request.POST:
            block_account(flag_id=flag.pk, actor=request.user, note=note)
            self.message_user(request, _("The account is blocked."), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:accounts_accountflag_change", args=[flag.pk]))

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404  # a flag out of the reviewer's scope does not exist

    # -- columns and the flag's page ---------------------------------------------------
    @admin.display(description=_("raised"), ordering="raised_at")
    def raised(self, obj):
        return _local(obj.raised_at)

    @admin.display(description=_("rule"), ordering="rule")
    def rule_and_count(self, obj):
        counted = f"{obj.count} × {obj.subject}" if obj.subject else str(obj.count)
        return format_html("{}<br><small>{}</small>", obj.rule, counted)

    @admin.display(description=_("counted from"))
    def counted_from(self, obj):
        return _local(obj.window_start)

    @admin.display(description=_("decided at"))
    def decided(self, obj):
        return _local(obj.decided_at)

    @admin.display(description=_("restricted until"))
    def restriction(self, obj):
        return _local(obj.restricted_until) if obj.restricted_until else _("flag only")

    @admin.display(description=_("why"))
    def why(self, obj):
        rule = hoarding_rules().get(obj.rule)
        return rule.explanation() if rule else obj.rule

    @admin.display(description=_("the account now"))
    def account_state(self, obj):
        account = obj.account
        if account.restricted_by == BLOCKED:
            return _("blocked")
        if account.restricted_until and account.restricted_until > timezone.now():
            return format_html(
                "{} {} ({})", _("restricted until"), _local(account.restricted_until), account.restricted_by
            )
        return _("not restricted")

    @admin.display(description=_("other flags of the account"))
    def other_flags(self, obj):
        others = AccountFlag.objects.filter(account_id=obj.account_id).exclude(pk=obj.pk)[:20]
        rows = ((_local(f.raised_at), f.rule, f.count, f.get_state_display()) for f in others)
        return format_html_join("", "<div>{} · {} × {} · {}</div>", rows) or "–"

    @admin.display(description=_("applications"))
    def applications(self, obj):
        """The account's latest applications at offices the reviewer sees, NIKs masked."""
        shown = _in_scope(Application.objects.filter(account_id=obj.account_id), obj.reviewer)
        shown = shown.select_related("slot__office")
        rows = (
            (a.booking_code, a.masked_nik, a.slot.office.name, _local(a.slot.starts_at), a.get_status_display())
            for a in shown.order_by("-created_at")[:30]
        )
        return format_html_join("", "<div>{} · {} · {} · {} · {}</div>", rows) or "–"
