from django.db import migrations


def sync(apps, schema_editor):
    from saferprisons.accounts.roles import ROLES

    Role = apps.get_model("accounts", "Role")
    for role in ROLES.values():
        Role.objects.update_or_create(
            code=role.code, defaults={"name": role.name, "description": role.description}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
