from django.core.management.base import BaseCommand, CommandError

from saferprisons.acct.facts import recompute_next_due


class Command(BaseCommand):
    help = (
        "Recompute every ACCT's stored next due time (AcctCase.next_due_at) with the current "
        "ACCT_* timing settings. Run it after changing ACCT_IAP_HOURS, ACCT_ASSESSMENT_HOURS, "
        "ACCT_FIRST_REVIEW_HOURS, ACCT_POST_CLOSURE_DAYS, ACCT_DAY_STARTS or ACCT_NIGHT_STARTS: "
        "until then the estate view finds overdue items by the old timings."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Live cases per transaction (default 500).",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        result = recompute_next_due(batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Checked {result['checked']} live ACCTs: {result['changed']} next due times "
                f"changed, {result['cleared']} cleared on cases no longer live."
            )
        )
