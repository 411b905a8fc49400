from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class BookingError(DomainError):
    pass


class InvalidInput(BookingError):
    code = "invalid"
    http_status = 400


class DuplicateApplication(BookingError):
    code = "duplicate_application"
    # One text whoever holds the NIK: the refusal tells that the NIK is in use, and nothing more.
    default_message = _(
        "This NIK already has an active application. If it is yours, finish or cancel it first; "
        "if it is not, contact the immigration office."
    )


class TooManyApplicants(BookingError):
    code = "too_many_applicants"
    default_message = _("An account may have active applications for at most %(limit)s people.")


class KindNotAccepted(BookingError):
    code = "kind_not_accepted"
    default_message = _("This session does not accept this kind of application.")


class RescheduleNotAllowed(BookingError):
    code = "reschedule_not_allowed"
    default_message = _("This application cannot be rescheduled.")


class TransitionNotAllowed(BookingError):
    code = "transition_not_allowed"
    default_message = _("An application in status “%(current)s” cannot become “%(target)s”.")


class ApplicationNotFound(BookingError):
    code = "not_found"
    http_status = 404
    default_message = _("No such application.")


class CancelNotAllowed(BookingError):
    code = "cancel_not_allowed"
    default_message = _("This application cannot be cancelled.")


class UnknownBillingCode(BookingError):
    code = "unknown_billing_code"
    http_status = 404
    default_message = _("No application has this billing code.")


class ApplicantLimitReached(BookingError):
    code = "too_many_applicants"
    default_message = _("An account may list at most %(limit)s people.")


class CheckInNotAllowed(BookingError):
    code = "check_in_not_allowed"
    default_message = _("This application cannot be checked in.")


class QueueActionNotAllowed(BookingError):
    code = "queue_action_not_allowed"
    default_message = _("This queue number cannot be changed so.")


class StepNotAllowed(BookingError):
    code = "step_not_allowed"
    default_message = _("This step cannot be recorded for this application.")
