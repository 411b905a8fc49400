import pytest


@pytest.mark.django_db
def test_a_missing_page_is_explained_in_indonesian(client):
    answer = client.get("/offices/no-such-office/")
    assert answer.status_code == 404
    assert "Halaman tidak ditemukan" in answer.content.decode()
