"""What ACCT work needs which permission. Grants live in accounts/roles.py (see ADR 0009)."""

from saferprisons.core.permissions import define

RAISE_CONCERN = define(
    "acct.raise_concern", "Raise an ACCT concern (opens, records on or reopens an ACCT)"
)
VIEW_CASE = define("acct.view_case", "See ACCT cases and the wing board in your prisons")
RECORD_ENTRY = define(
    "acct.record_entry",
    "Record ACCT observations, conversations, the Immediate Action Plan, assessment interviews "
    "(with current assessor training) and ask for a case review",
)
MANAGE_CASE = define(
    "acct.manage_case",
    "Hold ACCT case reviews, close and reopen ACCTs, record safer-cell decisions, complete tasks",
)
