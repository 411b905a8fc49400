"""The counter's page of the office's blank passport books (docs/book-stock.md): the stock and
outlook per type, and the form that records a delivery."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mpaspor.errors import DomainError
from offices.selectors import office_stock, recent_receipts
from offices.services import record_receipt

from . import selectors
from .staff_forms import StockReceiptForm
from .staff_views import current_office


@login_required
def stock(request):
    office = current_office(request)
    if office is None:
        return redirect("staff:choose_office")
    day = selectors.office_today(office=office)
    form = StockReceiptForm(request.POST or None, initial={"received_on": day})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            receipt = record_receipt(
                office=office,
                passport_type=data["passport_type"],
                books=data["books"],
                reference=data["reference"],
                received_on=data["received_on"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Delivery %(reference)s recorded: %(books)s books of the %(type)s passport.")
                % {
                    "reference": receipt.reference,
                    "books": receipt.books,
                    "type": receipt.stock.get_passport_type_display(),
                },
            )
            return redirect("staff:stock")
    return render(
        request,
        "appointments/staff/stock.html",
        {
            "office": office,
            "day": day,
            "form": form,
            "lines": office_stock(office=office),
            "receipts": recent_receipts(office=office),
        },
        status=400 if form.errors else 200,
    )
