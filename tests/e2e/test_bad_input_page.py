import pytest


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_address_with_a_nul_shows_the_400_page_in_the_phones_language(page, screenshot):
    """A mangled link (a NUL character in it) gets a readable page, not the crash page."""
    response = page.goto("/offices/%00/")
    assert response.status == 400
    assert page.locator("h1").inner_text() == "Permintaan tidak dapat diproses"
    assert "Tidak ada yang diubah" in page.locator("main").inner_text()
    screenshot("phone")
    page.click("text=Kembali ke beranda")
    page.wait_for_url("**/")
    assert page.url.endswith("/")
