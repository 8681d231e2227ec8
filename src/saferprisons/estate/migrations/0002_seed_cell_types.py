from django.db import migrations


def seed(apps, schema_editor):
    from saferprisons.estate.constants import CellTypeCode

    CellType = apps.get_model("estate", "CellType")
    for order, (code, label) in enumerate(CellTypeCode.choices):
        CellType.objects.update_or_create(
            code=code, defaults={"description": label, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("estate", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
