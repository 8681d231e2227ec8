"""Pure generators of fictional ACCT histories for the demo estate.

The same rules as ``generators.py``: a ``random.Random`` in, dataclasses out; no database, no
clock. Every event's time is given as whole minutes before the moment of seeding, so the writer
(``acct_writer.py``) places them relative to ``core.clock.now()`` and a demo always looks current.

About 2% of men and 5% of women are on an open ACCT (DOMAIN.md §7: about 2% overall, self-harm far
commoner among women), with fewer in the post-closure week and more with a closed ACCT behind
them. Each case is at one **stage** and may carry **flags** that make something overdue now, so
the wing board has something at every level of urgency:

- just opened, Immediate Action Plan (IAP) due, or already overdue;
- IAP done (with interim supervision), awaiting the assessment interview (sometimes late);
- assessed, awaiting the first case review (sometimes late);
- open after reviews at low, raised or high risk: CAREMAP, supervision plan, observations and
  conversations, with some observations overdue now, some reviews overdue or due soon, some
  unscheduled reviews demanded (self-harm, a staff request), some under constant supervision;
- high risk and not in a safer cell (the board's warning), or with a manager's recorded reason;
- closed at a review (post-closure review due, sometimes overdue), and closed for good.

Observations are generated for the last 12 hours of each open case only (older ones would add
rows without changing anything the board shows); the timings are chosen so that "overdue now" and
"on time" hold whatever the time of day the seed runs (see ``Levels.gaps``).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from saferprisons.acct.constants import (
    ConcernSource,
    DemandReason,
    Discipline,
    EntryKind,
    RiskLevel,
)

from .generators import PersonSpec, PrisonSpec

H = 60  # minutes
D = 24 * H

# --- Stages and flags ------------------------------------------------------------------------

IAP_DUE = "IAP_DUE"
IAP_OVERDUE = "IAP_OVERDUE"
AWAITING_ASSESSMENT = "AWAITING_ASSESSMENT"
AWAITING_FIRST_REVIEW = "AWAITING_FIRST_REVIEW"
OPEN_LOW = "OPEN_LOW"
OPEN_RAISED = "OPEN_RAISED"
OPEN_HIGH = "OPEN_HIGH"
HIGH_NOT_IN_SAFER_CELL = "HIGH_NOT_IN_SAFER_CELL"
POST_CLOSURE = "POST_CLOSURE"
CLOSED = "CLOSED"

# In the order the seed summary lists them.
STAGE_LABELS = {
    IAP_DUE: "just opened, IAP due",
    IAP_OVERDUE: "just opened, IAP overdue",
    AWAITING_ASSESSMENT: "IAP done, awaiting assessment",
    AWAITING_FIRST_REVIEW: "assessed, awaiting first review",
    OPEN_LOW: "open after reviews, low risk",
    OPEN_RAISED: "open after reviews, raised risk",
    OPEN_HIGH: "open after reviews, high risk",
    HIGH_NOT_IN_SAFER_CELL: "high risk, not in a safer cell",
    POST_CLOSURE: "post-closure",
    CLOSED: "closed",
}
STAGES = tuple(STAGE_LABELS)
ONGOING_STAGES = (OPEN_LOW, OPEN_RAISED, OPEN_HIGH, HIGH_NOT_IN_SAFER_CELL)
OPEN_STAGES = (IAP_DUE, IAP_OVERDUE, AWAITING_ASSESSMENT, AWAITING_FIRST_REVIEW, *ONGOING_STAGES)

STATUS_OPEN, STATUS_POST_CLOSURE, STATUS_CLOSED = "OPEN", "POST_CLOSURE", "CLOSED"

# Flags: what else is true of the case now.
LATE = "LATE"  # the stage's deadline has passed (assessment, first review, post-closure review)
OBSERVATION_OVERDUE = "OBSERVATION_OVERDUE"
REVIEW_OVERDUE = "REVIEW_OVERDUE"  # the scheduled review
REVIEW_DUE_SOON = "REVIEW_DUE_SOON"  # the scheduled review, within the next quarter of an hour
SELF_HARM = "SELF_HARM"  # an act of self-harm since the last review: a review due at once
STAFF_REQUEST = "STAFF_REQUEST"  # a member of staff asked for a review (due within 24 hours)
CONSTANT = "CONSTANT"  # constant supervision
NEW_CONCERN = "NEW_CONCERN"  # a further concern recorded on the open ACCT today
CELL_DECISION = "CELL_DECISION"  # high risk, not in a safer cell, a manager recorded why

# Small prisons (the tiny and demo sizes) get one case of each of these first, so every stage and
# every overdue item is on the board however few people there are.
SHOWCASE: tuple[tuple[str, frozenset[str]], ...] = (
    (IAP_DUE, frozenset()),
    (IAP_OVERDUE, frozenset()),
    (AWAITING_ASSESSMENT, frozenset()),
    (AWAITING_ASSESSMENT, frozenset({LATE})),
    (AWAITING_FIRST_REVIEW, frozenset({OBSERVATION_OVERDUE})),
    (AWAITING_FIRST_REVIEW, frozenset({LATE})),
    (OPEN_LOW, frozenset()),
    (OPEN_LOW, frozenset({REVIEW_OVERDUE})),
    (OPEN_RAISED, frozenset({OBSERVATION_OVERDUE, NEW_CONCERN})),
    (OPEN_RAISED, frozenset({REVIEW_DUE_SOON, STAFF_REQUEST})),
    (OPEN_HIGH, frozenset({CONSTANT})),
    (OPEN_HIGH, frozenset({SELF_HARM})),
    (HIGH_NOT_IN_SAFER_CELL, frozenset()),
    (POST_CLOSURE, frozenset()),
    (POST_CLOSURE, frozenset({LATE})),
    (CLOSED, frozenset()),
)

# Shares of people (open, post-closure, closed) by the prison's population.
RATES = {"men": (0.019, 0.004, 0.02), "women": (0.05, 0.012, 0.05)}
_OPEN_STAGE_WEIGHTS = (
    (IAP_DUE, 0.02),
    (IAP_OVERDUE, 0.01),
    (AWAITING_ASSESSMENT, 0.05),
    (AWAITING_FIRST_REVIEW, 0.04),
    (OPEN_LOW, 0.30),
    (OPEN_RAISED, 0.40),
    (OPEN_HIGH, 0.15),
    (HIGH_NOT_IN_SAFER_CELL, 0.03),
)
# The youngest a case at each stage can be: people who arrived more recently get other stages.
MIN_AGE = {
    IAP_DUE: 1 * H,
    IAP_OVERDUE: 5 * H,
    AWAITING_ASSESSMENT: 2 * D,
    AWAITING_FIRST_REVIEW: 2 * D,
    OPEN_LOW: 13 * D,
    OPEN_RAISED: 13 * D,
    OPEN_HIGH: 13 * D,
    HIGH_NOT_IN_SAFER_CELL: 13 * D,
    POST_CLOSURE: 16 * D,
    CLOSED: 15 * D,
}
OBSERVATION_WINDOW = 12 * H


def status_of(stage: str) -> str:
    if stage == POST_CLOSURE:
        return STATUS_POST_CLOSURE
    if stage == CLOSED:
        return STATUS_CLOSED
    return STATUS_OPEN


# --- Supervision levels ----------------------------------------------------------------------


@dataclass(frozen=True)
class Levels:
    """A supervision plan: observations per hour by day and night (decimal strings), or constant
    supervision; conversations per day and per night."""

    constant: bool = False
    day_per_hour: str = "1"
    night_per_hour: str = "1"
    day_conversations: int = 1
    night_conversations: int = 0

    def gaps(self) -> tuple[int, int]:
        """(shortest, longest) whole minutes between observations, day or night.

        Whatever mix of day and night follows an observation, the next is due no sooner than the
        shortest gap and no later than the longest, so an observation older than the longest gap
        is overdue now and one newer than the shortest is not.
        """
        rates = (Fraction(self.day_per_hour), Fraction(self.night_per_hour))
        return math.floor(60 / max(rates)), math.ceil(60 / min(rates))


CONSTANT_LEVELS = Levels(constant=True, day_conversations=0, night_conversations=0)
_LEVELS = {
    RiskLevel.HIGH: (Levels(False, "2", "1", 3, 1), Levels(False, "2", "2", 2, 1)),
    RiskLevel.RAISED: (Levels(False, "1", "1", 2, 0), Levels(False, "1", "0.5", 2, 1)),
    RiskLevel.LOW: (
        Levels(False, "0.5", "0.5", 1, 0),
        Levels(False, "0.5", "0.25", 1, 0),
        Levels(False, "1", "0.5", 1, 0),
    ),
}
_INTERIM_LEVELS = (Levels(False, "1", "1", 1, 0), Levels(False, "2", "1", 2, 0))
_RISK_ORDER = (RiskLevel.LOW, RiskLevel.RAISED, RiskLevel.HIGH)
# Days between scheduled reviews, by risk.
_REVIEW_DAYS = {RiskLevel.HIGH: (1, 2), RiskLevel.RAISED: (3, 5), RiskLevel.LOW: (7, 10)}

# --- Events ----------------------------------------------------------------------------------
# ``by`` is the role code of the member of staff of the person's prison who does it.


@dataclass(frozen=True)
class Concern:
    minutes_ago: int
    by: str
    source: str
    seen_or_heard: str
    immediate_risk: str
    action_taken: str


@dataclass(frozen=True)
class ActionPlan:
    minutes_ago: int
    by: str
    plan: str
    levels: Levels | None


@dataclass(frozen=True)
class Assessment:
    minutes_ago: int
    by: str
    summary: str


@dataclass(frozen=True)
class Attending:
    discipline: str
    role: str | None = None  # a member of staff of the prison
    name: str = ""  # anyone else


@dataclass(frozen=True)
class CaremapAction:
    need: str
    action: str
    owner: str
    target_days: int  # after the review's date (London)


@dataclass(frozen=True)
class Review:
    minutes_ago: int
    by: str  # the chair
    attendees: tuple[Attending, ...]
    risk: str
    levels: Levels | None  # None: the plan in force stays
    # The next review, in minutes before the seed (negative: still to come). None when closing.
    next_review_minutes_ago: int | None
    case_manager: str | None = None  # None: the previous review's stays
    case_coordinator: str | None = None
    triggers: str = ""
    warning_signs: str = ""
    protective_factors: str = ""
    notes: str = ""
    caremap_new: tuple[CaremapAction, ...] = ()
    # Indexes (in the order they were added) of the case's CAREMAP actions now done.
    caremap_done: tuple[int, ...] = ()
    family_consent: bool = False
    closure_reason: str = ""

    @property
    def closes(self) -> bool:
        return bool(self.closure_reason)


@dataclass(frozen=True)
class PostClosureReview:
    minutes_ago: int
    by: str
    notes: str
    attendees: tuple[Attending, ...]


@dataclass(frozen=True)
class Entry:
    minutes_ago: int
    by: str
    kind: str
    seen: bool
    presentation: str
    concerns: str = ""
    health: bool = False


@dataclass(frozen=True)
class Demand:
    minutes_ago: int
    by: str
    reason: str
    details: str


@dataclass(frozen=True)
class CellDecision:
    minutes_ago: int
    by: str
    reason: str


Event = (
    Concern | ActionPlan | Assessment | Review | PostClosureReview | Entry | Demand | CellDecision
)


@dataclass(frozen=True)
class AcctHistory:
    prison_number: str
    stage: str
    flags: frozenset[str]
    events: tuple[Event, ...]  # oldest first

    @property
    def status(self) -> str:
        return status_of(self.stage)

    @property
    def opened_minutes_ago(self) -> int:
        return self.events[0].minutes_ago


# --- Words -----------------------------------------------------------------------------------

_CONCERNS = (
    (
        ConcernSource.PERSONS_OWN_WORDS,
        "{first} told the landing officer they cannot see the point in going on after a phone "
        "call from home.",
    ),
    (
        ConcernSource.STAFF_OBSERVATION,
        "Found {first} with a ligature made from a torn sheet at a roll check; removed at once.",
    ),
    (
        ConcernSource.STAFF_OBSERVATION,
        "{first} has fresh cuts to the forearm, seen at unlock; healthcare attended.",
    ),
    (
        ConcernSource.FAMILY,
        "{first}'s sister phoned the safer custody line: {first} sounded desperate on a call "
        "last night.",
    ),
    (
        ConcernSource.OTHER_PRISONER,
        "A Listener told staff that {first} has been giving away belongings and saying goodbye.",
    ),
    (
        ConcernSource.OTHER_AGENCY,
        "The court escort reported that {first} was very distressed after sentencing today.",
    ),
    (
        ConcernSource.STAFF_OBSERVATION,
        "{first} has refused meals for two days and will not leave the cell.",
    ),
)
_IMMEDIATE_RISKS = (
    "Said they would act tonight if nothing changes.",
    "Has cut before; razor blades found and removed.",
    "Possible ligature points in the cell.",
    "Low mood and hopelessness; no plan disclosed.",
)
_ACTIONS_TAKEN = (
    "Stayed with {first} until a manager arrived; cell searched.",
    "Healthcare called and attended; Listener offered and accepted.",
    "Moved {first} to a cell near the office and started observations.",
    "Spoke with {first} for twenty minutes; manager informed; observations started.",
)
_IAP_PLANS = (
    "Observations and a conversation before bang-up; Listener offered; healthcare to see today.",
    "Keep on the wing; officers to check and talk at each unlock; phone call home arranged.",
    "Razors removed; observations as set; mental health in-reach referral made.",
)
_ASSESSMENTS = (
    "{first} spoke openly about debts on the wing and worry about their children. Has a plan "
    "for the future and agreed to talk to staff when low.",
    "{first} describes feeling trapped since the recall. Past self-harm in the community. "
    "Willing to engage with the mental health team.",
    "{first} was guarded at first; low mood after bad news about a family member. No current "
    "plan; protective factors identified with them.",
)
_TRIGGERS = (
    "Bad news from home; anniversaries; court dates.",
    "Debt and threats on the wing; cell moves.",
    "Refused visits or phone calls; being alone at bang-up.",
    "Sentence planning meetings; parole knock-backs.",
)
_WARNING_SIGNS = (
    "Withdrawn, not eating, stays in the cell.",
    "Gives belongings away; says goodbye.",
    "Angry outbursts then silence; stops going to work.",
    "Covers the observation panel; will not come to the door.",
)
_PROTECTIVE = (
    "Their children; weekly video calls.",
    "Work in the kitchens; a good relationship with the key worker.",
    "Faith; the chaplaincy team.",
    "Planning for release; their partner.",
)
_REVIEW_NOTES = (
    "{first} took part and agreed the plan.",
    "{first} says things feel a little better since the last review.",
    "{first} was quiet but engaged; agreed to keep talking to staff.",
)
_CAREMAP = (
    ("Contact with family", "Arrange a welfare phone call home", "Wing officer"),
    ("Debt on the wing", "Refer to the safer custody team about the debt", "Safer custody"),
    ("Low mood", "Mental health in-reach assessment", "Healthcare"),
    ("Purposeful activity", "Return to work in the kitchens", "Activities hub"),
    ("Worry about the court case", "Legal visit with the solicitor", "Offender management"),
    ("Sleep", "GP appointment about sleep", "Healthcare"),
    ("Peer support", "Weekly Listener session", "Listener scheme"),
)
_CLOSURE_REASONS = (
    "Risk has reduced: settled on the wing, engaging with work and the mental health team.",
    "The CAREMAP actions are complete and {first} agrees the ACCT can close.",
)
_POST_CLOSURE_NOTES = (
    "{first} is doing well since closure; no further concerns.",
    "Checked in with {first} and the wing staff: settled, working, in touch with family.",
)
_OBSERVATIONS = (
    "In cell, settled, watching television.",
    "Asleep, breathing seen.",
    "Talking with a cellmate; no concerns.",
    "Reading at the table; acknowledged the officer.",
    "On the phone at association; calm.",
    "Lying on the bed, awake; gave a thumbs up.",
)
_UNSEEN = (
    "Observation panel covered; no answer. Manager called to open the door.",
    "Not in the cell at the check; at healthcare per the movements board.",
)
_CONVERSATIONS = (
    "Talked about the week; says they are sleeping a little better.",
    "Spoke about the visit on Saturday; looking forward to it.",
    "Quiet, but answered; says they are bored behind the door.",
    "Talked about work; wants to go back to the kitchens.",
)
_HEALTH_CONVERSATIONS = (
    "Mental health nurse: mood low but stable; medication taken as prescribed.",
    "Mental health nurse: reviewed sleep and appetite; follow-up booked.",
)
_CONVERSATION_CONCERNS = ("Mentioned money owed on the wing; passed to the manager.", "")
_DEMANDS = {
    DemandReason.SELF_HARM: "Superficial cuts to the forearm found at a check; wound dressed.",
    DemandReason.STAFF_REQUEST: "Wing officer asks for a review: {first} more withdrawn this week.",
    DemandReason.TRIGGER: "Bad news from home: a family bereavement.",
}
_CELL_DECISIONS = (
    "No safer cell free in the prison; {first} stays in a cell by the office with observations "
    "at the high-risk level until one is.",
    "{first} said moving would make things worse; agreed with healthcare to stay on the wing "
    "with extra conversations.",
)
_NEW_CONCERNS = (
    (ConcernSource.FAMILY, "{first}'s mother called: {first} said goodbye on the phone."),
    (ConcernSource.OTHER_PRISONER, "A cellmate says {first} has not slept for two nights."),
)


def _pick(rng: random.Random, options, first: str) -> str:
    return rng.choice(options).format(first=first)


def _weighted(rng: random.Random, pairs) -> str:
    roll = rng.random() * sum(w for _, w in pairs)
    for value, weight in pairs:
        roll -= weight
        if roll < 0:
            return value
    return pairs[-1][0]


def _span(rng: random.Random, low: int, high: int) -> int:
    """A whole number of minutes from ``low`` to ``high`` (``low`` if the range is empty)."""
    return rng.randint(low, max(low, high))


# --- Stories ---------------------------------------------------------------------------------


@dataclass
class _Story:
    """Collects one case's events in any order; ``events()`` gives them oldest first."""

    rng: random.Random
    person: PersonSpec
    parts: list[Event] = field(default_factory=list)
    caremap_targets: list[int] = field(default_factory=list)  # minutes ago each action is due
    caremap_done: set[int] = field(default_factory=set)

    @property
    def first(self) -> str:
        return self.person.first_name

    def add(self, event: Event) -> None:
        self.parts.append(event)

    def events(self) -> tuple[Event, ...]:
        order = sorted(range(len(self.parts)), key=lambda i: (-self.parts[i].minutes_ago, i))
        return tuple(self.parts[i] for i in order)

    # --- pieces ---

    def concern(self, minutes_ago: int) -> None:
        source, seen = self.rng.choice(_CONCERNS)
        self.add(
            Concern(
                minutes_ago,
                self.rng.choice(("WING_OFFICER", "WING_OFFICER", "SECURITY", "HEALTHCARE")),
                source,
                seen.format(first=self.first),
                self.rng.choice(_IMMEDIATE_RISKS),
                _pick(self.rng, _ACTIONS_TAKEN, self.first),
            )
        )

    def action_plan(self, minutes_ago: int, levels: Levels | None) -> None:
        self.add(ActionPlan(minutes_ago, "WING_OFFICER", self.rng.choice(_IAP_PLANS), levels))

    def assessment(self, minutes_ago: int) -> None:
        by = self.rng.choice(("HEALTHCARE", "HEALTHCARE", "CUSTODIAL_MANAGER", "WING_OFFICER"))
        self.add(Assessment(minutes_ago, by, _pick(self.rng, _ASSESSMENTS, self.first)))

    def attendees(self, chair: str) -> tuple[tuple[Attending, ...], bool]:
        rng = self.rng
        people = [Attending(Discipline.MANAGER, chair)]
        if rng.random() < 0.7:
            people.append(Attending(Discipline.HEALTHCARE, "HEALTHCARE"))
        else:
            people.append(Attending(Discipline.MENTAL_HEALTH, name="Mental health in-reach nurse"))
        if rng.random() < 0.7:
            people.append(Attending(Discipline.WING_OFFICER, "WING_OFFICER"))
        people.append(
            Attending(Discipline.PERSON, name=f"{self.person.first_name} {self.person.last_name}")
        )
        if rng.random() < 0.15:
            people.append(Attending(Discipline.CHAPLAINCY, name="Chaplaincy team"))
        family = rng.random() < 0.1
        if family:
            people.append(Attending(Discipline.FAMILY, name="Sister (by phone)"))
        return tuple(people), family

    def caremap_actions(self, count: int, review_age: int) -> tuple[CaremapAction, ...]:
        chosen = self.rng.sample(_CAREMAP, count)
        actions = []
        for need, action, owner in chosen:
            days = self.rng.randint(2, 14)
            actions.append(CaremapAction(need, action, owner, days))
            self.caremap_targets.append(review_age - days * D)
        return tuple(actions)

    def review(
        self,
        minutes_ago: int,
        *,
        risk: str,
        levels: Levels | None,
        next_review: int | None,
        first: bool,
        closure_reason: str = "",
    ) -> None:
        rng = self.rng
        chair = "CUSTODIAL_MANAGER" if rng.random() < 0.85 else "DUTY_GOVERNOR"
        attendees, family = self.attendees(chair)
        done = tuple(
            i
            for i, target in enumerate(self.caremap_targets)
            if i not in self.caremap_done and target > minutes_ago and rng.random() < 0.7
        )
        self.caremap_done.update(done)
        fields = {}
        if first:
            manager = _weighted(
                rng, (("CUSTODIAL_MANAGER", 0.6), ("HEALTHCARE", 0.25), ("PSYCHOLOGIST", 0.15))
            )
            fields = {
                "case_manager": manager,
                "case_coordinator": (
                    "WING_OFFICER" if manager == "CUSTODIAL_MANAGER" else "CUSTODIAL_MANAGER"
                ),
                "triggers": rng.choice(_TRIGGERS),
                "warning_signs": rng.choice(_WARNING_SIGNS),
                "protective_factors": rng.choice(_PROTECTIVE),
            }
            new = self.caremap_actions(rng.randint(2, 3), minutes_ago)
        elif not closure_reason and rng.random() < 0.3:
            new = self.caremap_actions(1, minutes_ago)
        else:
            new = ()
        self.add(
            Review(
                minutes_ago,
                chair,
                attendees,
                risk,
                levels,
                next_review,
                notes=_pick(rng, _REVIEW_NOTES, self.first),
                caremap_new=new,
                caremap_done=done,
                family_consent=family,
                closure_reason=closure_reason,
                **fields,
            )
        )

    def observations(self, levels: Levels, start_age: int, last_age: int) -> None:
        """Seen observations from ``start_age`` minutes ago (older) to the last at ``last_age``,
        each sooner than the plan's shortest gap (constant supervision: an hourly note)."""
        shortest = 60 if levels.constant else levels.gaps()[0]
        age = last_age
        while age < start_age:
            self.add(
                Entry(
                    age, "WING_OFFICER", EntryKind.OBSERVATION, True, self.rng.choice(_OBSERVATIONS)
                )
            )
            age += self.rng.randint(max(5, shortest * 6 // 10), max(6, shortest - 3))

    def conversations(self, start_age: int, latest_age: int) -> None:
        age = latest_age
        while age < start_age:
            if self.rng.random() < 0.15:
                text, by, health = self.rng.choice(_HEALTH_CONVERSATIONS), "HEALTHCARE", True
            else:
                text, by, health = self.rng.choice(_CONVERSATIONS), "WING_OFFICER", False
            self.add(
                Entry(
                    age,
                    by,
                    EntryKind.CONVERSATION,
                    True,
                    text,
                    concerns="" if health else self.rng.choice(_CONVERSATION_CONCERNS),
                    health=health,
                )
            )
            age += self.rng.randint(4 * H, 9 * H)

    def supervision_record(
        self, levels: Levels, plan_age: int, *, overdue: bool, since: int
    ) -> None:
        """The last 12 hours of observations and conversations under ``levels`` (set
        ``plan_age`` minutes ago), with the last observation overdue now or not."""
        start = min(since, OBSERVATION_WINDOW) if since > 0 else OBSERVATION_WINDOW
        start = min(start, plan_age - 1)
        last = last_observation_age(self.rng, levels, overdue=overdue)
        self.observations(levels, start, last)
        if overdue and self.rng.random() < 0.3:
            self.add(
                Entry(
                    self.rng.randint(1, max(1, last // 2)),
                    "WING_OFFICER",
                    EntryKind.OBSERVATION,
                    False,
                    self.rng.choice(_UNSEEN),
                )
            )
        self.conversations(start, self.rng.randint(15, min(3 * H, max(15, start - 1))))


def last_observation_age(rng: random.Random, levels: Levels, *, overdue: bool) -> int:
    """Minutes since the last seen observation: past the longest gap (overdue now whatever the
    period), or inside the shortest (on time)."""
    if levels.constant:
        return rng.randint(2, 50)
    shortest, longest = levels.gaps()
    if overdue:
        return longest + rng.randint(5, 90)
    return rng.randint(2, max(3, shortest - 10))


def _levels_for(rng: random.Random, risk: str) -> Levels:
    return rng.choice(_LEVELS[risk])


def _review_gap(rng: random.Random, risk: str) -> int:
    low, high = _REVIEW_DAYS[risk]
    return rng.randint(low * D, high * D)


def _just_opened(story: _Story, stage: str) -> None:
    age = story.rng.randint(3, 50) if stage == IAP_DUE else story.rng.randint(65, 240)
    story.concern(age)


def _awaiting(story: _Story, stage: str, flags: frozenset[str]) -> None:
    rng = story.rng
    interim = rng.choice(_INTERIM_LEVELS)
    overdue = OBSERVATION_OVERDUE in flags
    low, high = (2 * H, 20 * H) if stage == AWAITING_ASSESSMENT else (4 * H, 22 * H)
    if LATE in flags:
        low, high = (25 * H, 40 * H) if stage == AWAITING_ASSESSMENT else (26 * H, 44 * H)
    if overdue:  # the last observation (at most the longest gap and 90 minutes ago) is after it
        low = max(low, interim.gaps()[1] + 90 + 2 * H)
    opened = _span(rng, low, high)
    story.concern(opened)
    plan_age = opened - rng.randint(10, 50)
    story.action_plan(plan_age, interim)
    if stage == AWAITING_FIRST_REVIEW:
        story.assessment(opened - _span(rng, 90, min(20 * H, opened - 15)))
    story.supervision_record(interim, plan_age, overdue=overdue, since=plan_age - 5)


def _review_ages(rng: random.Random, first_age: int, last_age: int) -> list[int]:
    """When reviews were held: the first, then every few days, then the last."""
    ages = [first_age]
    age = first_age
    while True:
        age -= rng.randint(3 * D, 10 * D)
        if age <= last_age + 12 * H:
            break
        ages.append(age)
    ages.append(last_age)
    return ages


def _risk_path(rng: random.Random, final: str, count: int) -> list[str]:
    """From raised or high at the first review down (or up) to ``final`` at the last."""
    end = _RISK_ORDER.index(final)
    start = max(end, rng.choice((1, 1, 2)))
    path = [_RISK_ORDER[start]]
    for _ in range(count - 2):
        path.append(_RISK_ORDER[rng.randint(end, start)])
    return [*path, final] if count > 1 else [final]


def _opening(story: _Story, opened: int) -> int:
    """Concern, IAP with interim levels and the assessment; returns the first review's age."""
    rng = story.rng
    story.concern(opened)
    story.action_plan(opened - rng.randint(10, 50), rng.choice(_INTERIM_LEVELS))
    assessed = opened - rng.randint(2 * H, 12 * H)
    story.assessment(assessed)
    return assessed - rng.randint(1 * H, 10 * H)


def _reviews(
    story: _Story,
    ages: list[int],
    final_risk: str,
    final_levels: Levels | None,
    *,
    last_next: int | None,
    closure_reason: str = "",
) -> None:
    rng = story.rng
    risks = _risk_path(rng, final_risk, len(ages))
    previous = None
    for index, (age, risk) in enumerate(zip(ages, risks, strict=True)):
        last = index == len(ages) - 1
        if last:
            levels = None if closure_reason else final_levels
            next_review = last_next
        else:
            levels = _levels_for(rng, risk) if risk != previous else None
            next_review = ages[index + 1] - rng.randint(0, 60)
        story.review(
            age,
            risk=risk,
            levels=levels,
            next_review=next_review,
            first=index == 0,
            closure_reason=closure_reason if last else "",
        )
        previous = risk
    # Now and then an event between two reviews demanded the later one (an unscheduled review).
    if len(ages) >= 3 and rng.random() < 0.2:
        index = rng.randint(1, len(ages) - 1)
        if ages[index - 1] - ages[index] > 2 * H:
            at = rng.randint(ages[index] + 30, ages[index - 1] - 30)
            story.add(
                Demand(at, "WING_OFFICER", DemandReason.TRIGGER, _DEMANDS[DemandReason.TRIGGER])
            )


def _ongoing(story: _Story, stage: str, flags: frozenset[str], limit: int) -> None:
    rng = story.rng
    risk = {OPEN_LOW: RiskLevel.LOW, OPEN_RAISED: RiskLevel.RAISED}.get(stage, RiskLevel.HIGH)
    levels = CONSTANT_LEVELS if CONSTANT in flags else _levels_for(rng, risk)
    gap = _review_gap(rng, risk)
    if REVIEW_OVERDUE in flags:
        next_age = rng.randint(1 * H, 30 * H)
    elif REVIEW_DUE_SOON in flags:
        next_age = -rng.randint(5, 14)
    else:
        next_age = -rng.randint(2 * H, gap - 9 * H)
    last_review = gap + next_age  # at least 8 hours ago
    opened = _span(rng, last_review + 30 * H, min(45 * D, limit))
    first_review = _opening(story, opened)
    _reviews(story, _review_ages(rng, first_review, last_review), risk, levels, last_next=next_age)
    story.supervision_record(
        levels, last_review, overdue=OBSERVATION_OVERDUE in flags, since=last_review
    )
    if SELF_HARM in flags:
        at = rng.randint(10, min(5 * H, last_review - 30))
        story.add(
            Demand(at, "WING_OFFICER", DemandReason.SELF_HARM, _DEMANDS[DemandReason.SELF_HARM])
        )
    if STAFF_REQUEST in flags:
        at = rng.randint(1 * H, min(20 * H, last_review - 30))
        text = _DEMANDS[DemandReason.STAFF_REQUEST].format(first=story.first)
        story.add(Demand(at, "WING_OFFICER", DemandReason.STAFF_REQUEST, text))
    if NEW_CONCERN in flags:
        source, text = rng.choice(_NEW_CONCERNS)
        story.add(
            Concern(
                rng.randint(30, 20 * H),
                "WING_OFFICER",
                source,
                text.format(first=story.first),
                rng.choice(_IMMEDIATE_RISKS),
                _pick(rng, _ACTIONS_TAKEN, story.first),
            )
        )
    if CELL_DECISION in flags:
        story.add(
            CellDecision(
                rng.randint(10, last_review - 10),
                "CUSTODIAL_MANAGER",
                _pick(rng, _CELL_DECISIONS, story.first),
            )
        )


def _closed(story: _Story, stage: str, flags: frozenset[str], limit: int) -> None:
    rng = story.rng
    if stage == POST_CLOSURE:
        closed = rng.randint(int(7.3 * D), 12 * D) if LATE in flags else rng.randint(3 * H, 6 * D)
    else:
        closed = _span(rng, 10 * D, min(100 * D, limit - 4 * D))
    opened = closed + _span(rng, 3 * D, min(30 * D, limit - closed))
    first_review = _opening(story, opened)
    _reviews(
        story,
        _review_ages(rng, first_review, closed),
        RiskLevel.LOW,
        None,
        last_next=None,
        closure_reason=_pick(rng, _CLOSURE_REASONS, story.first),
    )
    # The last few observations and a conversation before closure (the earlier ones would add
    # rows that nothing shows but the timeline).
    levels = _levels_for(rng, RiskLevel.LOW)
    last = closed + rng.randint(20, 60)
    story.observations(levels, last + 3 * H, last)
    story.conversations(last + 4 * H, last + rng.randint(10, 90))
    if stage == CLOSED:
        attendees, _ = story.attendees("CUSTODIAL_MANAGER")
        story.add(
            PostClosureReview(
                closed - rng.randint(3 * D, 7 * D),
                "CUSTODIAL_MANAGER",
                _pick(rng, _POST_CLOSURE_NOTES, story.first),
                tuple(a for a in attendees if a.discipline != Discipline.FAMILY),
            )
        )


def history(
    rng: random.Random, person: PersonSpec, stage: str, flags: frozenset[str]
) -> AcctHistory:
    """One person's ACCT at ``stage``: every event from the concern that opened it."""
    story = _Story(rng, person)
    limit = person.acct_history_limit
    if stage in (IAP_DUE, IAP_OVERDUE):
        _just_opened(story, stage)
    elif stage in (AWAITING_ASSESSMENT, AWAITING_FIRST_REVIEW):
        _awaiting(story, stage, flags)
    elif stage in ONGOING_STAGES:
        _ongoing(story, stage, flags, limit)
    else:
        _closed(story, stage, flags, limit)
    events = story.events()
    assert events[0].minutes_ago <= limit, (person.prison_number, stage)
    return AcctHistory(person.prison_number, stage, flags, events)


# --- Who, and at which stage -----------------------------------------------------------------


def draw_stage(rng: random.Random, status: str) -> tuple[str, frozenset[str]]:
    """A stage and flags for one more case with ``status``, at realistic rates."""
    if status == STATUS_POST_CLOSURE:
        return POST_CLOSURE, frozenset({LATE} if rng.random() < 0.1 else ())
    if status == STATUS_CLOSED:
        return CLOSED, frozenset()
    stage = _weighted(rng, _OPEN_STAGE_WEIGHTS)
    flags: set[str] = set()
    if stage in (AWAITING_ASSESSMENT, AWAITING_FIRST_REVIEW):
        if rng.random() < 0.25:
            flags.add(LATE)
        if rng.random() < 0.1:
            flags.add(OBSERVATION_OVERDUE)
    elif stage in ONGOING_STAGES:
        if stage == OPEN_HIGH and rng.random() < 0.25:
            flags.add(CONSTANT)
        elif stage == OPEN_HIGH and rng.random() < 0.15:
            flags.add(CELL_DECISION)
        if CONSTANT not in flags and rng.random() < 0.08:
            flags.add(OBSERVATION_OVERDUE)
        review = rng.random()
        if review < 0.06:
            flags.add(REVIEW_OVERDUE)
        elif review < 0.10:
            flags.add(REVIEW_DUE_SOON)
        if rng.random() < 0.02:
            flags.add(SELF_HARM)
        if rng.random() < 0.03:
            flags.add(STAFF_REQUEST)
        if rng.random() < 0.05:
            flags.add(NEW_CONCERN)
    return stage, frozenset(flags)


def wants_safer_cell(stage: str, flags: frozenset[str]) -> bool:
    """High risk, unless the story is that they are not in one."""
    return stage == OPEN_HIGH and CELL_DECISION not in flags


def acct_histories(
    rng: random.Random,
    spec: PrisonSpec,
    people: list[PersonSpec],
    *,
    safer_places: int,
    showcase: bool,
) -> list[AcctHistory]:
    """Who in the prison has an ACCT, at which stage, and its history.

    ``safer_places``: the prison's safe and constant-supervision places; no more people are put
    at high risk "in a safer cell" than there are places (the rest are at raised risk).
    ``showcase``: start with one case of each entry of ``SHOWCASE``.
    """
    open_rate, post_rate, closed_rate = RATES["women" if spec.is_womens else "men"]
    slots = list(SHOWCASE) if showcase else []
    have = Counter(status_of(stage) for stage, _ in slots)
    for status, rate in (
        (STATUS_OPEN, open_rate),
        (STATUS_POST_CLOSURE, post_rate),
        (STATUS_CLOSED, closed_rate),
    ):
        for _ in range(round(len(people) * rate) - have[status]):
            slots.append(draw_stage(rng, status))
    places = safer_places
    for index, (stage, flags) in enumerate(slots):
        if wants_safer_cell(stage, flags):
            if places > 0:
                places -= 1
            else:
                slots[index] = (OPEN_RAISED, flags - {CONSTANT, CELL_DECISION})
    candidates = rng.sample(people, len(people))
    taken: set[str] = set()
    histories = []
    for stage, flags in slots:
        person = next(
            (
                p
                for p in candidates
                if p.prison_number not in taken and p.acct_history_limit >= MIN_AGE[stage]
            ),
            None,
        )
        if person is None:
            continue  # nobody here long enough for this stage
        taken.add(person.prison_number)
        histories.append(history(rng, person, stage, flags))
    return histories


def crisis_priority(histories: list[AcctHistory]) -> dict[str, int]:
    """For ``plan_allocations``: people at high risk take the safer places first, then anyone
    else on an open ACCT; not those whose story is that they are not in a safer cell."""
    priority = {}
    for h in histories:
        if wants_safer_cell(h.stage, h.flags):
            priority[h.prison_number] = 0
        elif (
            h.status == STATUS_OPEN
            and h.stage != HIGH_NOT_IN_SAFER_CELL
            and (CELL_DECISION not in h.flags)
        ):
            priority[h.prison_number] = 1
    return priority


# --- Assessor training -----------------------------------------------------------------------

ASSESSOR_ROLES = ("WING_OFFICER", "CUSTODIAL_MANAGER", "HEALTHCARE", "PSYCHOLOGIST")
EXPIRED_ASSESSOR_ROLE = "SECURITY"


@dataclass(frozen=True)
class TrainingSpec:
    role_code: str
    completed_days_ago: int
    valid_days: int

    @property
    def expires_days_ago(self) -> int:
        return self.completed_days_ago - self.valid_days  # negative: still current


def assessor_training(rng: random.Random) -> list[TrainingSpec]:
    """ACCT assessor training for one prison's staff: current for the officer, the manager,
    healthcare and psychology (completed long enough ago to cover every assessment in the
    histories), and one record that has expired (security), so the refusal can be seen."""
    specs = [
        TrainingSpec(role, rng.randint(200, 700), 3 * 365 + rng.randint(0, 30))
        for role in ASSESSOR_ROLES
    ]
    specs.append(TrainingSpec(EXPIRED_ASSESSOR_ROLE, rng.randint(1100, 1300), 3 * 365))
    return specs
