from django.utils.translation import gettext_lazy as _

from mpaspor.errors import DomainError


class BookingError(DomainError):
    pass


class InvalidInput(BookingError):
    code = "invalid"
    http_status = 400


class DuplicateApplication(BookingError):
    code = "duplicate_application"
    # One text whoever holds the NIK: the refusal tells that the NIK is in use and how its owner
    # contests it, and nothing about the other application (docs/nik-disputes.md).
    default_message = _(
        "This NIK already has an active application. If it is yours, finish or cancel it first. If it is not, "
        "contest it from your account on the “Contest a NIK” page, with your birth date and a photo of your "
        "e-KTP: the immigration office reviews it and may cancel that application."
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


class EarlierNotAllowed(BookingError):
    code = "earlier_not_allowed"
    default_message = _("This application cannot be moved to an earlier date.")


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


# --- Supporting documents: each refusal stores nothing --------------------------------------


class FileTooLarge(BookingError):
    code = "file_too_large"
    http_status = 413
    default_message = _("The file is larger than %(limit)s MB. Take the photo again at a lower resolution.")


class FileTypeNotAllowed(BookingError):
    code = "file_type_not_allowed"
    http_status = 415
    default_message = _(
        "Only JPEG or PNG photos and PDF files are accepted, and this file is none of them, whatever its name says."
    )


class FileDamaged(BookingError):
    code = "file_damaged"
    http_status = 400
    default_message = _("The file cannot be read: it may be damaged or cut off. Take the photo or the scan again.")


class ImageTooLarge(BookingError):
    code = "image_too_large"
    http_status = 400
    default_message = _(
        "The image has too many pixels (more than %(limit)s million) to be processed. Take the photo again "
        "at a normal size."
    )


class FileUnsafe(BookingError):
    code = "file_unsafe"
    http_status = 400
    default_message = _(
        "The PDF holds JavaScript, automatic actions or attached files, which are not accepted. Save it again as "
        "a plain PDF, or send a photo of the document."
    )


class TooManyDocuments(BookingError):
    code = "too_many_documents"
    default_message = _("An application may hold at most %(limit)s files, rejected ones not counted.")


class DocumentsClosed(BookingError):
    code = "documents_closed"
    default_message = _("Documents can no longer be uploaded for this application.")


class DocumentNotFound(BookingError):
    code = "not_found"
    http_status = 404
    default_message = _("No such document.")


class ReviewNotAllowed(BookingError):
    code = "review_not_allowed"
    default_message = _("This document can no longer be checked: its application is closed.")


# --- NIK disputes (docs/nik-disputes.md): each refusal stores nothing ---------------------------


class NothingToDispute(BookingError):
    code = "nothing_to_dispute"
    default_message = _("No active application holds this NIK, so there is nothing to contest: you can book with it.")


class OwnApplicationDisputed(BookingError):
    code = "own_application"
    default_message = _(
        "The active application of this NIK is in your own account: if it is wrong, cancel it on “My applications”."
    )


class DisputeAlreadyOpen(BookingError):
    code = "dispute_open"
    default_message = _(
        "You have already contested this NIK and the office has not decided yet. You will be told the outcome."
    )


class DisputeNotFound(BookingError):
    code = "not_found"
    http_status = 404
    default_message = _("No such dispute.")


class DisputeDecided(BookingError):
    code = "dispute_decided"
    default_message = _("This dispute has already been decided.")


class PhotoNotAnImage(BookingError):
    code = "file_type_not_allowed"
    http_status = 415
    default_message = _("The e-KTP must be a JPEG or PNG photo, and this file is none, whatever its name says.")
