"""The ACCT policy settings, registered for the administrators' policy settings page."""

from saferprisons.core.policy import PolicySetting, register

PSI = "PSI 64/2011 (Safer Custody), ACCT"

SETTINGS = (
    PolicySetting(
        "ACCT_IAP_HOURS",
        "Immediate Action Plan due this long after an ACCT opens",
        f"{PSI} v5: within 1 hour of opening (DOMAIN.md §2)",
        True,
        "hours",
    ),
    PolicySetting(
        "ACCT_ASSESSMENT_HOURS",
        "Assessment interview by a trained assessor due this long after the concern",
        f"{PSI} v5: within 24 hours of the concern form (DOMAIN.md §2)",
        True,
        "hours",
    ),
    PolicySetting(
        "ACCT_FIRST_REVIEW_HOURS",
        "First multidisciplinary case review due this long after opening",
        f"{PSI} v5: within 24 hours of opening (DOMAIN.md §2)",
        True,
        "hours",
    ),
    PolicySetting(
        "ACCT_POST_CLOSURE_DAYS",
        "Post-closure review due this long after an ACCT is closed",
        f"{PSI} v6 strengthened the post-closure period; 7 days is common practice, "
        "the timing is not confirmed by a primary source (DOMAIN.md §2)",
        False,
        "days",
    ),
    PolicySetting(
        "ACCT_UNSCHEDULED_REVIEW_HOURS",
        "A review demanded by an event (trigger, transfer in, staff request) is due within this "
        "long; self-harm on an open ACCT demands one at once",
        "Local choice: ACCT v6 names triggers for unscheduled reviews, no timing found",
        False,
        "hours",
    ),
    PolicySetting(
        "ACCT_DAY_STARTS",
        "Day supervision levels apply from this time (Europe/London)",
        "Local choice: ACCT plans set day and night levels; the times are the prison's regime",
        False,
        "time",
    ),
    PolicySetting(
        "ACCT_NIGHT_STARTS",
        "Night supervision levels apply from this time (Europe/London)",
        "Local choice: the prison's night state",
        False,
        "time",
    ),
    PolicySetting(
        "ACCT_DUE_SOON_MINUTES",
        "The wing board marks an observation or review due within this long as due soon",
        "Local choice (display)",
        False,
        "minutes",
    ),
    PolicySetting(
        "ACCT_NEW_CONCERN_HOURS",
        "The wing board marks a concern raised within this long as new",
        "Local choice (display)",
        False,
        "hours",
    ),
    PolicySetting(
        "ACCT_SAFER_CUSTODY_EMAILS",
        "E-mail addresses told of new and reopened ACCTs, per prison code (in-app tasks are "
        "always created)",
        f"{PSI}: safer custody admin is informed of an opening (DOMAIN.md §2); addresses are "
        "local configuration",
        True,
    ),
)


def register_acct_settings() -> None:
    register(*SETTINGS)
