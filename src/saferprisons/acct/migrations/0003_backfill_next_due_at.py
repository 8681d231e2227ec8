"""Backfill AcctCase.next_due_at for the cases already recorded (the same function as
``manage.py acct_recompute_due``). It uses the app's current models and the ACCT_* settings,
not the historical models: ``facts.due_facts`` reads only the columns it names, and on a new
database there are no cases, so the step is two empty queries."""

from django.db import migrations


def backfill(apps, schema_editor):
    from saferprisons.acct.facts import recompute_next_due

    recompute_next_due()


class Migration(migrations.Migration):
    dependencies = [("acct", "0002_acctcase_next_due_at")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
