import json
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from saferprisons.core import clock
from saferprisons.monitoring import permissions as perms
from saferprisons.monitoring import services
from saferprisons.monitoring.consumer import Broker, broker_configured, broker_url, stop_on_signals
from saferprisons.monitoring.demo_setup import actor_with, setup_demo_monitoring
from saferprisons.monitoring.models import Gateway
from saferprisons.monitoring.rules import to_ms
from saferprisons.monitoring.simulator import (
    HttpTransport,
    MqttTransport,
    SensorSimulator,
    load_plan,
    run,
)


class Command(BaseCommand):
    help = (
        "Simulate the in-cell sensors of every monitored cell: a prison day and night, with "
        "injected events (no movement, long bathroom stay, device silent, second person). One "
        "message per wing gateway per tick, over HTTP or MQTT. Fictional data only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--transport",
            choices=["http", "mqtt"],
            default="",
            help="How to send: mqtt when a broker is configured (MONITORING_MQTT_URL), else http.",
        )
        parser.add_argument(
            "--server",
            default="http://127.0.0.1:8000",
            help="The saferprisons server for http (default %(default)s).",
        )
        parser.add_argument(
            "--tokens",
            default="",
            help='JSON file {"PRISON/GATEWAY": "<token>"} for http. Without it, each gateway '
            "is issued a new token (its old one is revoked), as its prison's system administrator.",
        )
        parser.add_argument("--broker", default="", help="mqtt://host:port for mqtt.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same readings.")
        parser.add_argument(
            "--rate",
            type=float,
            default=1.0,
            help="Messages per gateway per second (default %(default)s: one reading per device "
            "per second).",
        )
        parser.add_argument(
            "--event-rate",
            type=float,
            default=6.0,
            help="Injected events per hour over all simulated cells (default %(default)s).",
        )
        parser.add_argument(
            "--duration", type=float, default=None, help="Seconds to run (default: until stopped)."
        )
        parser.add_argument(
            "--prison", action="append", default=[], metavar="CODE", help="Only this prison."
        )
        parser.add_argument(
            "--include-unmonitored",
            action="store_true",
            help="Also send for installed devices in cells not monitored (dropped at ingest).",
        )
        parser.add_argument(
            "--set-up-demo",
            action="store_true",
            help="First give the first two wings of each prison a gateway, sensors and "
            "enrolments (monitoring.demo_setup), if they have none.",
        )

    def handle(self, *args, **options):
        if options["rate"] <= 0 or options["rate"] > 100:
            raise CommandError("--rate must be more than 0 and at most 100")
        if options["event_rate"] < 0:
            raise CommandError("--event-rate cannot be negative")
        transport_name = options["transport"] or ("mqtt" if broker_configured() else "http")
        tokens = {}
        if options["set_up_demo"]:
            made = setup_demo_monitoring(prison_codes=options["prison"] or None)
            tokens.update(made.tokens)
            self.stdout.write(
                f"Set up {len(made.gateways)} gateway(s), {made.devices} device(s), "
                f"{made.enrolled} enrolment(s) ({made.declined} declined)."
            )
        plan = load_plan(
            prison_codes=tuple(options["prison"]),
            include_unmonitored=options["include_unmonitored"],
        )
        if not plan.gateways:
            raise CommandError(
                "No monitored cells: register gateways and devices and enrol people first "
                "(or use --set-up-demo)."
            )
        transport = self._transport(transport_name, plan, tokens, options)
        simulator = SensorSimulator(
            plan,
            seed=options["seed"],
            events_per_hour=options["event_rate"],
            rate=options["rate"],
            start_ms=to_ms(clock.now()),
        )
        self.stdout.write(
            f"Simulating {len(plan)} cell(s) behind {len(plan.gateways)} gateway(s) over "
            f"{transport_name}, {options['rate']:g} message(s) per gateway per second. "
            "Stop with Ctrl-C."
        )
        stop = threading.Event()
        try:
            with stop_on_signals(stop, enabled=True):
                counts = run(
                    simulator, transport.send, duration_seconds=options["duration"], stop=stop
                )
        finally:
            transport.close()
        events = ", ".join(f"{name}: {count}" for name, count in counts.events.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Sent {transport.counts.sent} message(s) with {counts.readings} reading(s) "
                f"({transport.counts.failed} failed). Injected events: {events}."
            )
        )

    def _transport(self, name, plan, tokens, options):
        if name == "mqtt":
            try:
                broker = Broker.from_url(options["broker"] or broker_url())
            except ValueError as error:
                raise CommandError(str(error)) from error
            try:
                return MqttTransport(broker)
            except OSError as error:
                raise CommandError(f"Cannot reach the broker {broker}: {error}") from error
        if options["tokens"]:
            try:
                tokens.update(json.loads(Path(options["tokens"]).read_text()))
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the tokens file: {error}") from error
        missing = [g for g in plan.gateways if g.key not in tokens]
        if missing:
            tokens.update(self._issue_tokens(missing))
        try:
            return HttpTransport(options["server"], tokens)
        except ValueError as error:
            raise CommandError(str(error)) from error

    def _issue_tokens(self, gateways) -> dict[str, str]:
        issued = {}
        for simulated in gateways:
            gateway = Gateway.objects.select_related("prison").get(
                prison__code=simulated.prison_code, code=simulated.code
            )
            admin = actor_with(gateway.prison, perms.MANAGE_DEVICES)
            if admin is None:
                raise CommandError(f"Nobody may manage gateways in {simulated.prison_code}")
            _, secret = services.rotate_gateway_token(actor=admin, gateway=gateway)
            issued[simulated.key] = secret
        self.stdout.write(
            f"Issued new tokens for {len(issued)} gateway(s); the old ones are revoked."
        )
        return issued
