from saferprisons.core.permissions import define

VIEW_EVENTS = define("audit.view_events", "List and filter audit events")
