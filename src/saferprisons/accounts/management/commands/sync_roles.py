from django.core.management.base import BaseCommand

from saferprisons.accounts.services import sync_roles


class Command(BaseCommand):
    help = "Make the Role table match the roles defined in accounts/roles.py."

    def handle(self, *args, **options):
        count = sync_roles()
        self.stdout.write(self.style.SUCCESS(f"{count} roles in sync."))
