from django.urls import path

from . import dispute_views, document_views, queue_views, staff_views, step_views, stock_views

app_name = "staff"
urlpatterns = [
    path("counter/", staff_views.counter, name="counter"),
    path("counter/office/", staff_views.choose_office, name="choose_office"),
    path("counter/check-in/", staff_views.check_in, name="check_in"),
    path("counter/walk-in/", staff_views.walk_in, name="walk_in"),
    path(
        "counter/applications/<int:application_id>/documents/",
        document_views.counter_documents,
        name="documents",
    ),
    path("counter/documents/<int:document_id>/", document_views.counter_file, name="document_file"),
    path("counter/documents/<int:document_id>/review/", document_views.counter_review, name="review_document"),
    path("counter/queue/", queue_views.queue, name="queue"),
    path("counter/steps/", step_views.steps, name="steps"),
    path("counter/stock/", stock_views.stock, name="stock"),
    path("counter/queue/call-next/", queue_views.call_next, name="call_next"),
    path("counter/queue/<int:application_id>/<slug:action>/", queue_views.queue_action, name="queue_action"),
    path("counter/queue/screen-address/", queue_views.replace_screen_address, name="replace_screen_address"),
    path("screen/<str:key>/", queue_views.screen, name="screen"),
    path("disputes/", dispute_views.office_disputes, name="disputes"),
    path("disputes/<int:dispute_id>/", dispute_views.office_dispute, name="dispute"),
    path("disputes/<int:dispute_id>/photo/", dispute_views.dispute_photo, name="dispute_photo"),
    path("disputes/<int:dispute_id>/decide/", dispute_views.decide, name="decide_dispute"),
]
