from saferprisons.core.permissions import define

VIEW_STATUS = define("jobs.view_status", "See whether the background worker is alive")
