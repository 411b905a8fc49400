"""The account's password on a phone, in Indonesian: changed from "My applications"; the app's
token and other sessions are signed out, this browser stays in."""

import pytest
from playwright.sync_api import expect

from accounts.models import ApiToken
from accounts.services import create_api_token
from tests.e2e.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_change_the_password_and_the_app_is_signed_out(page, screenshot):
    user = UserFactory(email="ani@example.com", full_name="Ani Lestari")
    create_api_token(user=user)  # the mobile app, signed in

    log_in(page, email=user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Permohonan saya")
    page.get_by_role("link", name="Ubah kata sandi saya").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ubah kata sandi saya")
    screenshot("01-change-form")

    page.fill("input[name=old_password]", "salah-sekali")
    page.fill("input[name=new_password1]", "Kata-Sandi-Baru-2026")
    page.fill("input[name=new_password2]", "Kata-Sandi-Baru-2026")
    page.get_by_role("button", name="Simpan kata sandi baru").click()
    assert page.locator(".field-error").first.is_visible()
    screenshot("02-wrong-old-password")

    page.fill("input[name=old_password]", "Rahasia-Kuat-123")
    page.fill("input[name=new_password1]", "Kata-Sandi-Baru-2026")
    page.fill("input[name=new_password2]", "Kata-Sandi-Baru-2026")
    page.get_by_role("button", name="Simpan kata sandi baru").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Permohonan saya")  # still signed in
    assert page.locator(".message-success").is_visible()
    screenshot("03-changed")
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    user.refresh_from_db()
    assert user.check_password("Kata-Sandi-Baru-2026")
