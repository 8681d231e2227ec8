from saferprisons.core.permissions import define

VIEW_PRISONER = define("people.view_prisoner", "See the records of people in your prisons")
SEARCH = define("people.search", "Search for people in your prisons")
ADD_CASE_NOTE = define("people.add_case_note", "Write case notes")
ADD_HEALTH_NOTE = define("people.add_health_note", "Write health case notes")
VIEW_HEALTH = define("people.view_health", "See health information (healthcare only)")
VIEW_SENSITIVE = define("people.view_sensitive", "See sensitive (security) case notes")
MOVE_PRISONER = define("people.move_prisoner", "Move people between cells")
RECORD_MOVEMENT = define("people.record_movement", "Record receptions, transfers and releases")
MANAGE_ALERTS = define("people.manage_alerts", "Add and end alerts on a person")
ASSESS_CELL_SHARING = define(
    "people.assess_cell_sharing", "Record the cell sharing risk assessment (CSRA) outcome"
)
