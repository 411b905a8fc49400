from django.db import migrations

# The documents per kind of application, as the static list shown on the pages until now:
# (code, Indonesian name, English name, required). National staff edit them in the admin.
E_KTP = ("e_ktp", "e-KTP (kartu tanda penduduk elektronik)", "e-KTP (electronic identity card)", True)
FAMILY_CARD = ("family_card", "Kartu Keluarga (KK)", "Kartu Keluarga (family card)", True)
BIRTH_DIPLOMA_MARRIAGE = (
    "birth_diploma_marriage",
    "Salah satu: akta kelahiran, ijazah, atau buku nikah; nama, tempat dan tanggal lahir di dalamnya harus "
    "sesuai dengan e-KTP",
    "One of: birth certificate, school diploma (ijazah), or marriage book (buku nikah); the name, place and "
    "date of birth on it must match the e-KTP",
    True,
)
# For a replacement, only when the name or the birth date differs from the old passport.
DATA_PROOF_IF_CHANGED = (
    "birth_diploma_marriage",
    "Akta kelahiran, ijazah, atau buku nikah, bila nama atau tanggal lahir berbeda dengan paspor lama",
    "Birth certificate, school diploma or marriage book, if the name or birth date differs from the old passport",
    False,
)
OLD_PASSPORT = ("old_passport", "Paspor lama Anda", "Your current passport", True)

REQUIRED_DOCUMENTS = {
    "new": [E_KTP, FAMILY_CARD, BIRTH_DIPLOMA_MARRIAGE],
    "replacement_expired": [E_KTP, FAMILY_CARD, OLD_PASSPORT, DATA_PROOF_IF_CHANGED],
    "replacement_full": [E_KTP, FAMILY_CARD, OLD_PASSPORT, DATA_PROOF_IF_CHANGED],
    "lost": [
        E_KTP,
        FAMILY_CARD,
        ("police_report", "Surat keterangan hilang dari kepolisian", "The police report of the loss", True),
    ],
    "damaged": [E_KTP, FAMILY_CARD, ("damaged_passport", "Paspor yang rusak", "The damaged passport", True)],
    "data_change": [
        E_KTP,
        FAMILY_CARD,
        OLD_PASSPORT,
        (
            "change_document",
            "Dokumen resmi perubahannya (misalnya penetapan pengadilan atas perubahan nama)",
            "The official document of the change (for example a court decision on a change of name)",
            True,
        ),
    ],
}


def add_required_documents(apps, schema_editor):
    RequiredDocument = apps.get_model("appointments", "RequiredDocument")
    for kind, documents in REQUIRED_DOCUMENTS.items():
        for position, (code, name, name_en, required) in enumerate(documents, start=1):
            RequiredDocument.objects.get_or_create(
                kind=kind,
                code=code,
                defaults={"name": name, "name_en": name_en, "required": required, "position": position},
            )


class Migration(migrations.Migration):
    dependencies = [("appointments", "0010_supporting_documents")]
    operations = [migrations.RunPython(add_required_documents, migrations.RunPython.noop)]
