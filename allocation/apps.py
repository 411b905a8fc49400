from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "allocation"
    verbose_name = _("Fair allocation")

    def ready(self):
        from notifications.outbox import register
        from offices.signals import incident_changed
        from quotas.signals import place_given_back

        from .models import EntryMessage, OfferMessage
        from .outbox import reason_gone, render_message, render_offer_message
        from .receivers import apply_incidents_on_change, offer_places_given_back

        register(EntryMessage, render=render_message, select_related=["entry__release__office"])
        register(
            OfferMessage,
            render=render_offer_message,
            skip=reason_gone,
            select_related=["offer__slot__office", "offer__waiting"],
        )
        place_given_back.connect(offer_places_given_back, dispatch_uid="allocation.offer_places_given_back")
        incident_changed.connect(apply_incidents_on_change, dispatch_uid="allocation.apply_incidents_on_change")
