from django.core.management.base import BaseCommand, CommandError

from saferprisons.audit.verification import verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chain; exit non-zero at the first broken or missing link."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"Audit chain broken: {report.problem} ({report.checked} verified)")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events."))
