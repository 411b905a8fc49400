import datetime as dt

from django.db import migrations

# PP 45/2024, in force from December 2024. Later tariffs are added as rows.
PNBP_2024 = {
    "regular_5": 350_000,
    "regular_10": 650_000,
    "electronic_5": 650_000,
    "electronic_10": 950_000,
    "express": 1_000_000,
}


def add_fees(apps, schema_editor):
    Fee = apps.get_model("appointments", "Fee")
    for item, amount in PNBP_2024.items():
        Fee.objects.get_or_create(item=item, effective_from=dt.date(2024, 12, 1), defaults={"amount": amount})


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]
    operations = [migrations.RunPython(add_fees, migrations.RunPython.noop)]
