import faulthandler
import signal

from django.core.management.base import BaseCommand, CommandError

from saferprisons.monitoring.consumer import (
    DEFAULT_SHARE_GROUP,
    Broker,
    Consumer,
    ConsumerOptions,
    broker_url,
    default_consumer_name,
    end_session,
)


class Command(BaseCommand):
    help = (
        "Take sensor readings from the MQTT broker into the ingest pipeline (QoS 1, persistent "
        "session, acknowledged only once stored). SIGTERM or Ctrl-C flushes, acknowledges and "
        "disconnects; a second one stops at once. See docs/monitoring-consumer.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default="",
            help="This consumer's name (default: the host name). Its broker client id is "
            "saferprisons-ingest-<name>: keep it the same across restarts so the broker's "
            "session, with the messages not yet acknowledged, is resumed.",
        )
        parser.add_argument(
            "--broker",
            default="",
            help="mqtt://[user:password@]host[:port] or mqtts://... (default: the "
            "MONITORING_MQTT_URL setting or environment variable, else mqtt://127.0.0.1:1883).",
        )
        parser.add_argument(
            "--prison",
            action="append",
            default=[],
            metavar="CODE",
            help="Take only this prison's gateways (repeat for a partition of several). "
            "Default: every prison.",
        )
        parser.add_argument(
            "--gateway",
            action="append",
            default=[],
            metavar="PRISON/GATEWAY",
            help="Take only this gateway (repeat for several; may be combined with --prison).",
        )
        parser.add_argument(
            "--share-group",
            default=DEFAULT_SHARE_GROUP,
            help="Shared-subscription group (default %(default)s); '' for a plain subscription.",
        )
        parser.add_argument(
            "--max-in-flight",
            type=int,
            default=ConsumerOptions.max_in_flight,
            help="Messages the broker may send before they are acknowledged (MQTT 5 Receive "
            "Maximum, 1-65535; default %(default)s). While messages flow they are held until "
            "the minute of their readings is written: allow at least a minute of messages.",
        )
        parser.add_argument(
            "--commit-seconds",
            type=float,
            default=ConsumerOptions.commit_seconds,
            help="How often ended minutes are written and the messages they cover "
            "acknowledged (default %(default)s).",
        )
        parser.add_argument(
            "--flush-on-ingest-thread",
            action="store_true",
            help="Write rollups on the thread that ingests (ingest waits for each write) "
            "instead of on a second thread with its own database connection.",
        )
        parser.add_argument(
            "--session-expiry-seconds",
            type=int,
            default=7 * 24 * 3600,
            help="How long the broker keeps this consumer's session while it is away "
            "(default a week).",
        )
        parser.add_argument(
            "--end-session",
            action="store_true",
            help="Do not consume: make the broker forget this consumer's session (its "
            "subscription and queued messages), for a name that will not run again.",
        )
        parser.add_argument(
            "--report-seconds",
            type=float,
            default=0.0,
            help="Log throughput this often (default: never).",
        )

    def handle(self, *args, **options):
        # `kill -USR1 <pid>` writes every thread's stack to stderr: for a consumer that seems
        # stuck, without stopping it.
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        try:
            broker = Broker.from_url(options["broker"] or broker_url())
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not 1 <= options["max_in_flight"] <= 65535:
            raise CommandError("--max-in-flight must be from 1 to 65535")
        if any(key.count("/") != 1 for key in options["gateway"]):
            raise CommandError("--gateway is PRISON/GATEWAY, e.g. ZLA/A-WING")
        if options["commit_seconds"] <= 0:
            raise CommandError("--commit-seconds must be more than 0")
        settings = ConsumerOptions(
            name=options["name"] or default_consumer_name(),
            broker=broker,
            prisons=tuple(options["prison"]),
            gateways=tuple(options["gateway"]),
            share_group=options["share_group"] or None,
            max_in_flight=options["max_in_flight"],
            commit_seconds=options["commit_seconds"],
            flush_in_background=not options["flush_on_ingest_thread"],
            session_expiry_seconds=options["session_expiry_seconds"],
            report_seconds=options["report_seconds"],
        )
        if options["end_session"]:
            if not end_session(settings):
                raise CommandError(f"{broker} did not confirm: the session may still be there")
            self.stdout.write(f"{broker} has forgotten the session of {settings.client_id}.")
            return
        self.stdout.write(
            f"Monitoring consumer {settings.name} ({settings.client_id}) on {broker}."
        )
        stats = Consumer(settings).run()
        self.stdout.write(
            self.style.SUCCESS(
                f"Monitoring consumer {settings.name} stopped: {stats.ingested} message(s) "
                f"ingested, {stats.acknowledged} acknowledged, {stats.accepted} reading(s) "
                f"accepted, {stats.refused} refused."
            )
        )
