from saferprisons.core.permissions import define

ADMINISTER = define("accounts.administer", "Manage staff accounts, roles and API tokens")

# Scopes a machine client's token may carry. Tokens never act as a member of staff.
TOKEN_SCOPES = {
    "estate:read": "Read prisons and locations",
    "people:read": "Read prisoners in the token's prisons (no health data)",
    "people:write": "Record movements, alerts and case notes in the token's prisons",
    "sensors:write": "Send sensor readings (in-cell monitoring gateways)",
    "acct:read": "Read ACCT cases, the wing board and tasks (with people:read; no health entries)",
    "acct:write": "Raise ACCT concerns, record entries and ask for reviews (with acct:read)",
}
