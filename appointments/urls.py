from django.urls import path

from . import applicant_views, dispute_views, document_views, views

app_name = "appointments"
urlpatterns = [
    path("offices/", views.offices, name="offices"),
    path("offices/<slug:code>/", views.office_calendar, name="calendar"),
    path("offices/<slug:code>/<str:date>/", views.office_day, name="day"),
    path("book/<int:slot_id>/", views.book, name="book"),
    path("applications/", views.my_applications, name="my_applications"),
    path("applications/<str:booking_code>/", views.confirmation, name="confirmation"),
    path("applications/<str:booking_code>/cancel/", views.cancel, name="cancel"),
    path("applications/<str:booking_code>/pay/", applicant_views.pay_application, name="pay_application"),
    path("applications/<str:booking_code>/calendar.ics", applicant_views.calendar_file, name="calendar_file"),
    path(
        "applications/<str:booking_code>/reschedule/",
        applicant_views.reschedule_application,
        name="reschedule_application",
    ),
    path("applications/<str:booking_code>/earlier/", applicant_views.earlier_visit, name="earlier_visit"),
    path("applications/<str:booking_code>/documents/", document_views.upload, name="upload_document"),
    path(
        "applications/<str:booking_code>/documents/<int:document_id>/",
        document_views.own_file,
        name="document_file",
    ),
    path("people/", applicant_views.people, name="people"),
    path("nik-disputes/", dispute_views.disputes, name="nik_disputes"),
    path("people/<int:person_id>/remove/", applicant_views.remove_person, name="remove_person"),
]
