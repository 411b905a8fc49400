from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import account_applications


def home(request):
    return render(request, "home.html")


@login_required
def my_applications(request):
    return render(
        request, "appointments/my_applications.html", {"applications": account_applications(account=request.user)}
    )
