from django.core.management.base import BaseCommand

from saferprisons.jobs.worker import default_worker_name, run_worker


class Command(BaseCommand):
    help = (
        "Run background jobs: claim due jobs, run them, re-queue stale ones and keep a heartbeat. "
        "SIGTERM or Ctrl-C finishes the current job, then stops; a second one stops at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Run one pass over the jobs due now, then exit."
        )
        parser.add_argument(
            "--name",
            default="",
            help="Worker name shown on the status page (default host:pid). "
            "Give each running worker its own name.",
        )

    def handle(self, *args, once: bool, name: str, **options):
        worker_name = name or default_worker_name()
        mode = "one pass" if once else "until stopped"
        self.stdout.write(f"Worker {worker_name} running {mode}.")
        jobs_run = run_worker(worker_name, once=once)
        self.stdout.write(
            self.style.SUCCESS(f"Worker {worker_name} stopped after running {jobs_run} job(s).")
        )
