"""The HTTP ingest endpoint, for gateways that cannot speak MQTT. Thin: the pipeline does the work.

``POST /api/monitoring/readings`` with the gateway's token (scope ``sensors:write``) and a message
in the docs/schemas/reading-v1.json format. The body is read raw (orjson, no per-reading
pydantic): a message answers 202 with what happened to its readings, bad readings included
(they are dead-lettered and counted); only a message that cannot be read at all is a 4xx.
"""

import logging

from django.db import DatabaseError
from ninja import Router
from ninja.responses import Status

from saferprisons.core.api_support import api_permission, error_response, responses

from . import conf
from . import permissions as perms
from .constants import DeadLetterReason
from .ingest import GatewayRef, default_pipeline
from .schemas import IngestResultOut
from .selectors import gateway_for_token

logger = logging.getLogger(__name__)
router = Router(tags=["monitoring"])

# The body is read raw, so ninja cannot describe it: the published schema is the reference.
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": 'One reading, or a batch {"schema_version": 1, '
                    '"readings": [...]}: see docs/schemas/reading-v1.json',
                }
            }
        },
    }
}


@router.post(
    "/readings",
    response=responses(202, IngestResultOut, errors=(400, 401, 403, 413, 422, 503)),
    url_name="monitoring-readings",
    openapi_extra=REQUEST_BODY,
)
@api_permission(perms.INGEST)
def send_readings(request):
    gateway = gateway_for_token(request.auth)
    if gateway is None:
        return error_response(
            403, "forbidden", "This token does not belong to a monitoring gateway in service"
        )
    body = request.body
    if len(body) > conf.value("MONITORING_MAX_MESSAGE_BYTES"):
        return error_response(413, "too_large", "The message is too large")
    pipeline = default_pipeline()
    try:
        result = pipeline.ingest(body, gateway=GatewayRef.of(gateway))
    except DatabaseError:
        logger.exception("Monitoring ingest could not write to the database")
        return error_response(503, "unavailable", "Readings cannot be stored now: send again")
    _tick(pipeline)
    if result.message_problem == DeadLetterReason.MALFORMED_JSON:
        return error_response(400, "malformed_json", "The request body is not valid JSON")
    if result.message_problem is not None:
        return error_response(
            422,
            "bad_envelope",
            result.message_detail,
            [{"field": "body", "message": result.message_detail}],
        )
    return Status(202, result.counts())


def _tick(pipeline) -> None:
    # Silence checks and rollup writes ride on requests here (the consumer has its own timer).
    # The readings are already taken in, so a failure here must not fail the request.
    try:
        pipeline.tick()
    except DatabaseError:
        logger.exception("Monitoring tick failed; rollups stay in memory until the next one")
