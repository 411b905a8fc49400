from django.urls import path

from . import applicant_views, views

app_name = "appointments"
urlpatterns = [
    path("applications/", views.my_applications, name="my_applications"),
    path("applications/<str:booking_code>/", applicant_views.application_detail, name="application_detail"),
    path("applications/<str:booking_code>/pay/", applicant_views.pay_application, name="pay_application"),
    path("applications/<str:booking_code>/reschedule/", applicant_views.reschedule_application,
         name="reschedule_application"),
    path("applications/<str:booking_code>/cancel/", applicant_views.cancel_application, name="cancel_application"),
    path("people/", applicant_views.people, name="people"),
    path("people/<int:person_id>/remove/", applicant_views.remove_person, name="remove_person"),
]
