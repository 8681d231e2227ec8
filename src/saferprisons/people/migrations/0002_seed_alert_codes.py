from django.db import migrations


def seed(apps, schema_editor):
    from saferprisons.people.reference_data import seed_alert_codes

    seed_alert_codes(apps.get_model("people", "AlertType"), apps.get_model("people", "AlertCode"))


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
