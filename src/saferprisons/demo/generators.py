"""Pure generators of synthetic, fictional demo data.

Every function takes a ``random.Random`` and returns plain dataclasses: no database, no clock, no
global random state. The same seed always gives the same prisons, cells, people and staff. Times are
returned as offsets ("days ago") so the writer can place them relative to the moment it runs, while
dates of birth are fixed against ``REFERENCE_DATE`` and so never drift.

Everything here is invented: prison names are built from syllables and checked against the names
of real UK prisons; people's names are drawn from lists of common first names and surnames, so no
generated person is a real, identifiable individual.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from saferprisons.estate.constants import CellTypeCode, Operator, Population, PrisonCategory
from saferprisons.people.constants import CaseNoteType, LegalStatus, Sensitivity, Sex

# Dates of birth are computed from this fixed date, never from the clock, so they are reproducible.
REFERENCE_DATE = date(2026, 1, 1)

SIZES = ("tiny", "demo", "estate")
ESTATE_PRISON_COUNT = 120
ESTATE_POPULATION = 88_000  # about the population of England and Wales (DOMAIN.md §7)
# Ordinary cells are sized so that about this share of their places is filled.
ORDINARY_OCCUPANCY = 0.91
WING_LETTERS = "ABCDEF"
CSU_WING = "CSU"

# --- Names -----------------------------------------------------------------------------------
# Common, generic first names and surnames. A generated person is a random combination of them.

MALE_FIRST_NAMES = (
    "James", "John", "David", "Michael", "Daniel", "Thomas", "Christopher", "Matthew", "Paul",
    "Mark", "Andrew", "Steven", "Richard", "Robert", "William", "Anthony", "Kevin", "Jason",
    "Ryan", "Jack", "Harry", "George", "Oliver", "Charlie", "Jacob", "Joshua", "Lewis", "Liam",
    "Connor", "Callum", "Adam", "Ben", "Luke", "Sam", "Nathan", "Jordan", "Kyle", "Dean", "Lee",
    "Craig", "Gary", "Shaun", "Wayne", "Darren", "Carl", "Scott", "Stuart", "Ian", "Martin",
    "Peter", "Simon", "Stephen", "Aaron", "Marcus", "Dylan", "Reece", "Kieran", "Declan", "Sean",
    "Patrick", "Rhys", "Gareth", "Owen", "Aled", "Mohammed", "Ali", "Omar", "Hassan", "Ahmed",
    "Tomasz", "Piotr", "Andrei", "Kwame", "Jamal", "Tyrone", "Jermaine", "Ashley", "Jamie",
    "Bradley", "Joe", "Alex", "Tony", "Neil", "Graham", "Keith",
)  # fmt: skip
FEMALE_FIRST_NAMES = (
    "Sarah", "Emma", "Laura", "Rebecca", "Jessica", "Charlotte", "Hannah", "Amy", "Lauren",
    "Sophie", "Chloe", "Emily", "Kirsty", "Gemma", "Nicola", "Michelle", "Lisa", "Donna", "Kelly",
    "Claire", "Joanne", "Stacey", "Leanne", "Natalie", "Danielle", "Samantha", "Victoria",
    "Katie", "Amber", "Jade", "Megan", "Courtney", "Shannon", "Tanya", "Paula", "Karen", "Tracey",
    "Julie", "Angela", "Helen", "Louise", "Rachel", "Zoe", "Holly", "Fatima", "Aisha", "Amina",
    "Agnieszka", "Anna", "Maria", "Ioana", "Chantelle", "Keisha", "Siobhan", "Bethan", "Rhian",
    "Nia", "Kayleigh", "Jodie", "Carly", "Sharon", "Dawn", "Jennifer", "Lucy", "Ellie", "Jasmine",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner",
    "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker",
    "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker",
    "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards",
    "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson",
    "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain",
    "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd",
    "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "Graham", "Pearson", "Ahmed", "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews",
    "Stewart", "Elliott", "Reynolds", "Saunders", "Payne", "Fox", "Pearce", "Day", "Brooks",
    "West", "Lawrence", "Cole", "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball",
    "Burton", "O'Brien", "Watts", "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells",
    "Armstrong", "Francis", "Rees", "Hayes", "Hart", "Hudson", "Newman", "Barrett", "Webster",
    "Hunter", "Gregory", "Carr", "Lowe", "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons",
    "Berry", "Stone", "Reid", "Holland", "Hawkins", "Harding", "Porter", "Robertson", "Newton",
    "Oliver", "Reed", "Kennedy", "Williamson", "Bird", "Gardner", "Shah", "Dean", "Lane",
    "Cooke", "Bates", "Henderson", "Parry", "Burgess", "Bishop", "Walton", "Burns", "Nicholson",
    "Shepherd", "Ross", "Cross", "Long", "Freeman", "Warren", "Nicholls", "Hamilton", "Byrne",
    "Sutton", "McDonald", "Yates", "Hodgson", "Robson", "Curtis", "Hopkins", "O'Connor",
    "Harper", "Coleman", "Watkins", "Moss", "McCarthy", "Chambers", "O'Neill", "Griffin",
    "Sharp", "Hardy", "Wheeler", "Potter", "Osborne", "Johnston", "Gordon", "Doyle", "Wallace",
    "Jordan", "Hutchinson", "Kowalski", "Nowak", "Popescu", "Mensah", "Okafor", "Nguyen",
)  # fmt: skip
# Common surnames are commoner: weights fall off with rank, as in real populations.
_SURNAME_CUM_WEIGHTS = tuple(accumulate(1 / math.sqrt(rank + 1) for rank in range(len(SURNAMES))))

LANGUAGES = (
    "Polish", "Romanian", "Albanian", "Urdu", "Welsh", "Punjabi", "Lithuanian", "Arabic",
    "Somali", "Portuguese", "Bengali", "Vietnamese", "Kurdish", "Tigrinya",
)  # fmt: skip

# --- Prison names ----------------------------------------------------------------------------

NAME_HEADS = (
    "Lark", "East", "Thorn", "Bram", "Cress", "Dun", "Elder", "Gorse", "Hazel", "Heron",
    "Kestrel", "Marl", "Nettle", "Pell", "Raven", "Rush", "Sedge", "Tarn", "Wren", "Yarrow",
    "Bryn", "Coll", "Drum", "Glen", "Holl", "Kel", "Lin", "Nor", "Pen", "Sal", "Tal", "Wex",
    "Whin", "Brack", "Corr", "Elm", "Fal", "Hart", "Loft", "Orm", "Quil", "Rook", "Stam", "Tav",
    "Bex", "Cal", "Dray", "Fen", "Hale", "Kirk", "Mire", "Nab", "Oat", "Plum", "Sorrel",
)  # fmt: skip
NAME_TAILS = (
    "hollow", "mere", "bury", "field", "ford", "moor", "stead", "combe", "ridge", "haven",
    "wick", "ley", "brook", "dale", "holt", "marsh", "gate", "stone", "well", "by", "thorpe",
    "worth", "ton", "den", "low", "hurst", "croft", "shaw",
)  # fmt: skip
NAME_EXTRAS = ("Fen", "Grange", "Heath", "Park", "Vale", "Hill", "Lodge", "Common")

# Real UK prisons, open and closed (England and Wales, Scotland, Northern Ireland). Generated
# names are refused if they match one, so a fictional prison is never mistaken for a real one.
REAL_PRISON_NAMES = frozenset(
    {
        "Addiewell", "Altcourse", "Ashfield", "Ashwell", "Askham Grange", "Aylesbury", "Barlinnie",
        "Bedford", "Belmarsh", "Berwyn", "Birmingham", "Blantyre House", "Blundeston",
        "Brinsford", "Bristol", "Brixton", "Bronzefield", "Buckley Hall", "Bullingdon",
        "Bullwood Hall", "Bure", "Camp Hill", "Canterbury", "Cardiff", "Castle Huntly",
        "Channings Wood", "Chelmsford", "Coldingley", "Cookham Wood", "Dartmoor", "Deerbolt",
        "Doncaster", "Dorchester", "Dovegate", "Dover", "Downview", "Drake Hall", "Dumfries",
        "Durham", "East Sutton Park", "Eastwood Park", "Edinburgh", "Elmley", "Erlestoke",
        "Everthorpe", "Exeter", "Featherstone", "Feltham", "Five Wells", "Ford", "Forest Bank",
        "Fosse Way", "Foston Hall", "Frankland", "Full Sutton", "Garth", "Gartree",
        "Glen Parva", "Glenochil", "Gloucester", "Grampian", "Greenock", "Grendon",
        "Guys Marsh", "Haslar", "Hatfield", "Haverigg", "Hewell", "High Down", "Highpoint",
        "Hindley", "Hollesley Bay", "Holloway", "Holme House", "Hull", "Humber", "Huntercombe",
        "Hydebank Wood", "Inverness", "Isis", "Isle of Wight", "Kennet", "Kilmarnock",
        "Kingston", "Kirkham", "Kirklevington Grange", "Lancaster", "Lancaster Farms",
        "Latchmere House", "Leeds", "Leicester", "Lewes", "Leyhill", "Lincoln", "Lindholme",
        "Littlehey", "Liverpool", "Long Lartin", "Low Moss", "Low Newton", "Lowdham Grange",
        "Maghaberry", "Magilligan", "Maidstone", "Manchester", "Millsike", "Moorland",
        "Morton Hall", "Mount", "New Hall", "North Sea Camp", "Northallerton", "Northumberland",
        "Norwich", "Nottingham", "Oakwood", "Onley", "Parc", "Pentonville", "Perth",
        "Peterborough", "Polmont", "Portland", "Prescoed", "Preston", "Ranby", "Reading",
        "Risley", "Rochester", "Rye Hill", "Send", "Shepton Mallet", "Shotts", "Shrewsbury",
        "Stafford", "Standford Hill", "Stirling", "Stocken", "Stoke Heath", "Styal", "Sudbury",
        "Swaleside", "Swansea", "Swinfen Hall", "Thameside", "The Mount", "The Verne",
        "Thorn Cross", "Usk", "Verne", "Wakefield", "Wandsworth", "Warren Hill", "Wayland",
        "Wealstun", "Wellingborough", "Werrington", "Wetherby", "Whatton", "Whitemoor",
        "Winchester", "Woodhill", "Wormwood Scrubs", "Wymott",
    }
)  # fmt: skip


def _name_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", re.sub(r"^(hmp|hmyoi|hmp/yoi)\s+", "", name.strip().lower()))


_REAL_KEYS = frozenset(_name_key(n) for n in REAL_PRISON_NAMES)


def is_real_prison_name(name: str) -> bool:
    """True if the name (with or without "HMP ") is a real prison's, or starts with one."""
    bare = re.sub(r"^(hmp|hmyoi)\s+", "", name.strip().lower())
    first_word = _name_key(bare.split(" ")[0]) if bare else ""
    return _name_key(bare) in _REAL_KEYS or first_word in _REAL_KEYS


# --- Specs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrisonSpec:
    code: str
    name: str
    category: str
    population: str
    operator: str
    target_population: int

    @property
    def is_womens(self) -> bool:
        return self.population == Population.WOMEN

    @property
    def is_local(self) -> bool:
        """Local (reception) prisons hold people on remand; training prisons mostly do not."""
        return self.category in (PrisonCategory.B, PrisonCategory.FEMALE_CLOSED)


DEMO_PRISONS = (
    PrisonSpec("ZLA", "HMP Larkhollow", PrisonCategory.B, Population.MEN, Operator.PUBLIC, 650),
    PrisonSpec(
        "ZEA", "HMP Eastmere", PrisonCategory.FEMALE_CLOSED, Population.WOMEN, Operator.PUBLIC, 300
    ),
    PrisonSpec("ZTF", "HMP Thornbury Fen", PrisonCategory.C, Population.MEN, Operator.PRIVATE, 550),
)
TINY_PRISONS = (
    PrisonSpec("ZLA", "HMP Larkhollow", PrisonCategory.B, Population.MEN, Operator.PUBLIC, 60),
)

# (category, population, share of prisons, (smallest, largest) population) for the estate size.
_ESTATE_MIX = (
    (PrisonCategory.B, Population.MEN, 0.25, (700, 1700)),
    (PrisonCategory.C, Population.MEN, 0.42, (400, 1300)),
    (PrisonCategory.A, Population.MEN, 0.04, (450, 900)),
    (PrisonCategory.D, Population.MEN, 0.11, (250, 550)),
    (PrisonCategory.YOI, Population.MEN, 0.03, (200, 600)),
    (PrisonCategory.YOI, Population.YOUNG_PEOPLE, 0.02, (60, 150)),
    (PrisonCategory.FEMALE_CLOSED, Population.WOMEN, 0.10, (200, 550)),
    (PrisonCategory.FEMALE_OPEN, Population.WOMEN, 0.03, (100, 250)),
)
ESTATE_MAX_PRISON_POPULATION = 1950


def prison_name(rng: random.Random) -> str:
    name = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS)
    if rng.random() < 0.2:
        name += " " + rng.choice(NAME_EXTRAS)
    return f"HMP {name}"


def prison_code(rng: random.Random) -> str:
    """Fictional agency codes: Z or Q and two letters (no real prison's code starts so)."""
    letters = "ABCDEFGHJKLMNPRSTUVWXY"
    return rng.choice("ZQ") + rng.choice(letters) + rng.choice(letters)


def estate_prisons(
    rng: random.Random,
    count: int = ESTATE_PRISON_COUNT,
    total_population: int = ESTATE_POPULATION,
) -> list[PrisonSpec]:
    """A fictional national estate: a realistic mix of categories, sizes adding up exactly."""
    counts = [round(share * count) for _, _, share, _ in _ESTATE_MIX]
    counts[1] += count - sum(counts)  # category C training prisons take up any rounding
    kinds = [mix for mix, n in zip(_ESTATE_MIX, counts, strict=True) for _ in range(n)]
    names: set[str] = set()
    codes: set[str] = set()
    drafts = []
    for category, population, _, (low, high) in kinds:
        name = prison_name(rng)
        while name in names or is_real_prison_name(name):
            name = prison_name(rng)
        names.add(name)
        code = prison_code(rng)
        while code in codes:
            code = prison_code(rng)
        codes.add(code)
        operator = Operator.PRIVATE if rng.random() < 0.15 else Operator.PUBLIC
        drafts.append((code, name, category, population, operator, rng.randint(low, high)))
    sizes = _scale_to_total([d[5] for d in drafts], total_population)
    prisons = [
        PrisonSpec(code, name, category, population, operator, size)
        for (code, name, category, population, operator, _), size in zip(drafts, sizes, strict=True)
    ]
    return sorted(prisons, key=lambda p: p.name)


def _scale_to_total(sizes: list[int], total: int) -> list[int]:
    factor = total / sum(sizes)
    scaled = [min(ESTATE_MAX_PRISON_POPULATION, max(20, round(s * factor))) for s in sizes]
    index = 0
    while sum(scaled) != total:
        step = 1 if sum(scaled) < total else -1
        candidate = scaled[index % len(scaled)] + step
        if 20 <= candidate <= ESTATE_MAX_PRISON_POPULATION:
            scaled[index % len(scaled)] = candidate
        index += 1
    return scaled


def prisons_for_size(rng: random.Random, size: str) -> list[PrisonSpec]:
    if size == "tiny":
        return list(TINY_PRISONS)
    if size == "demo":
        return list(DEMO_PRISONS)
    if size == "estate":
        return estate_prisons(rng)
    raise ValueError(f"Unknown size {size!r}; choose one of {', '.join(SIZES)}")


# --- Cells -----------------------------------------------------------------------------------

# Cells that only a person on an open ACCT is placed in (kept free otherwise, for a crisis).
CRISIS_TYPES = frozenset({CellTypeCode.SAFE_CELL, CellTypeCode.CONSTANT_SUPERVISION})
# Cells kept empty, ready for use: listener suites and special segregation cells.
RESERVE_TYPES = frozenset(
    {
        CellTypeCode.LISTENER_CRISIS,
        CellTypeCode.DRY,
        CellTypeCode.UNFURNISHED,
        CellTypeCode.BIOHAZARD_DIRTY_PROTEST,
    }
)


@dataclass(frozen=True)
class CellSpec:
    wing: str
    landing: str
    number: int
    cna: int
    working: int
    maximum: int
    cell_types: tuple[str, ...] = ()
    deactivated: bool = False
    certified_days_ago: int | None = None  # ligature certification of a SAFE_CELL

    @property
    def path(self) -> str:
        return f"{self.wing}-{self.landing}-{self.number:03d}"

    @property
    def landing_path(self) -> str:
        return f"{self.wing}-{self.landing}"

    @property
    def is_crisis(self) -> bool:
        return bool(CRISIS_TYPES.intersection(self.cell_types))

    @property
    def is_reserve(self) -> bool:
        return bool(RESERVE_TYPES.intersection(self.cell_types))

    @property
    def is_csu(self) -> bool:
        return CellTypeCode.CSU in self.cell_types

    @property
    def is_ordinary(self) -> bool:
        return not (self.deactivated or self.is_crisis or self.is_reserve or self.is_csu)


@dataclass
class PrisonLayout:
    wings: list[str]
    landings: list[tuple[str, str]]  # (wing, landing)
    cells: list[CellSpec]

    @property
    def ordinary_cell_indexes(self) -> list[int]:
        return [i for i, cell in enumerate(self.cells) if cell.is_ordinary]


# Chance of a single cell, a double, and a dormitory, by category.
_CELL_MIX = {
    PrisonCategory.A: (0.90, 0.10, 0.0),
    PrisonCategory.B: (0.45, 0.55, 0.0),
    PrisonCategory.C: (0.55, 0.45, 0.0),
    PrisonCategory.D: (0.45, 0.35, 0.20),
    PrisonCategory.FEMALE_CLOSED: (0.70, 0.30, 0.0),
    PrisonCategory.FEMALE_OPEN: (0.50, 0.40, 0.10),
    PrisonCategory.YOI: (0.80, 0.20, 0.0),
}


def _ordinary_cell(rng: random.Random, category: str) -> tuple[int, int, int]:
    """(CNA, working, maximum) with CNA ≤ working ≤ maximum ≤ 99."""
    single, double, _ = _CELL_MIX.get(category, (0.6, 0.4, 0.0))
    roll = rng.random()
    if roll < single:
        return 1, 1, 2 if rng.random() < 0.1 else 1
    if roll < single + double:
        # Many doubles are single cells certified for one and holding two (crowding).
        return (1 if rng.random() < 0.6 else 2), 2, 2
    beds = rng.choice((4, 4, 6, 8))
    return beds, beds, beds


def prison_layout(rng: random.Random, spec: PrisonSpec) -> PrisonLayout:
    """Wings A–F, landings 1–4, cells sized for about 90% occupancy, and the special cells."""
    population = spec.target_population
    ordinary_needed = math.ceil(population / ORDINARY_OCCUPANCY)
    wing_count = min(len(WING_LETTERS), max(2, math.ceil(ordinary_needed / 200)))
    landing_count = min(4, max(2, math.ceil(ordinary_needed / wing_count / 45)))
    wings = list(WING_LETTERS[:wing_count])
    landings = [(w, str(n)) for w in wings for n in range(1, landing_count + 1)]

    # Ordinary cells, spread over the landings in order.
    shapes = []
    while sum(s[1] for s in shapes) < ordinary_needed:
        shapes.append(_ordinary_cell(rng, spec.category))
    per_landing: dict[tuple[str, str], list[tuple]] = {key: [] for key in landings}
    chunk = math.ceil(len(shapes) / len(landings))
    for index, shape in enumerate(shapes):
        per_landing[landings[index // chunk]].append((*shape, (), False, None))

    def add(key, types, *, certified=None, deactivated=False, shape=(1, 1, 1)):
        per_landing[key].append((*shape, tuple(types), deactivated, certified))

    tiny = population < 100
    # Ligature-resistant safe cells (more in the women's estate, where self-harm is far higher).
    safe_count = rng.randint(4, 6) if spec.is_womens else (2 if tiny else rng.randint(2, 4))
    for _ in range(safe_count):
        wing = rng.choice(wings)
        add((wing, "1"), [CellTypeCode.SAFE_CELL], certified=rng.randint(20, 1100))
    for index in range(1 if tiny else rng.randint(1, 2)):
        wing = rng.choice(wings)
        if index == 0 and not tiny and rng.random() < 0.5:
            # A gated observation cell that is also ligature-resistant.
            add(
                (wing, "1"),
                [CellTypeCode.CONSTANT_SUPERVISION, CellTypeCode.SAFE_CELL],
                certified=rng.randint(20, 1100),
            )
        else:
            add((wing, "1"), [CellTypeCode.CONSTANT_SUPERVISION])
    for wing in wings:  # an accessible cell on each wing's ground floor
        add((wing, "1"), [CellTypeCode.ACCESSIBLE_CELL])
    add((rng.choice(wings), "2"), [CellTypeCode.LISTENER_CRISIS], shape=(2, 2, 2))
    for _ in range(1 if tiny else 2):  # out of use: damage, repairs
        add(rng.choice(landings), [], deactivated=True, shape=_ordinary_cell(rng, spec.category))

    # The segregation unit (CSU) is a wing of its own, single cells, with its special cells.
    csu_key = (CSU_WING, "1")
    per_landing[csu_key] = []
    csu_count = min(16, max(3, round(population / 100)))
    specials = [CellTypeCode.DRY, CellTypeCode.UNFURNISHED, CellTypeCode.BIOHAZARD_DIRTY_PROTEST]
    for index in range(csu_count):
        extra = [specials[index - 1]] if 1 <= index <= len(specials) and csu_count > 3 else []
        add(csu_key, [CellTypeCode.CSU, *extra])

    cells = []
    for (wing, landing), shapes_here in per_landing.items():
        rng.shuffle(shapes_here)
        for number, (cna, working, maximum, types, deactivated, certified) in enumerate(
            shapes_here, start=1
        ):
            cells.append(
                CellSpec(
                    wing=wing,
                    landing=landing,
                    number=number,
                    cna=cna,
                    working=working,
                    maximum=maximum,
                    cell_types=types,
                    deactivated=deactivated,
                    certified_days_ago=certified,
                )
            )
    return PrisonLayout(wings=[*wings, CSU_WING], landings=[*landings, csu_key], cells=cells)


# --- People ----------------------------------------------------------------------------------


def prison_numbers(rng: random.Random, count: int) -> list[str]:
    """Unique NOMIS-shaped numbers (A1234BC). All start with Z, which NOMIS does not issue."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    seen: set[str] = set()
    numbers = []
    while len(numbers) < count:
        number = f"Z{rng.randrange(10_000):04d}{rng.choice(letters)}{rng.choice(letters)}"
        if number not in seen:
            seen.add(number)
            numbers.append(number)
    return numbers


@dataclass(frozen=True)
class AlertSpec:
    code: str
    days_ago: int
    ended_days_ago: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class NoteSpec:
    note_type: str
    sensitivity: str
    text: str
    days_ago: int
    minute: int


@dataclass
class PersonSpec:
    prison_number: str
    first_name: str
    last_name: str
    sex: str
    date_of_birth: date
    legal_status: str
    first_language: str
    health_needs: str
    days_in_custody: int
    # Transferred in: the sending prison is picked as a fraction of the other prisons.
    transfer_from_pick: float | None = None
    transfer_days_ago: int | None = None
    # A previous cell (in the sending prison if transferred, else in this prison).
    previous_cell_pick: float | None = None
    moved_days_ago: int | None = None
    alerts: list[AlertSpec] = field(default_factory=list)
    notes: list[NoteSpec] = field(default_factory=list)

    @property
    def days_here(self) -> int:
        if self.transfer_days_ago is not None:
            return self.transfer_days_ago
        return self.days_in_custody

    @property
    def acct_history_limit(self) -> int:
        """How many minutes back an ACCT here may have opened: after the person arrived.

        Arrival is placed on the day ``days_here`` ago, at the latest 20:00 (the writer's
        ``_at``), so anything up to ``days_here`` days less 21 hours ago is after it.
        """
        return max(0, (self.days_here * 24 - 21) * 60)


# Alert rates per person. The ACCT alerts (HA, HA1, HA2) are not drawn here: the ACCT histories
# below set them, through the ACCT services, as they would in use.
_ALERT_RATES = {
    "men": {
        "HC": 0.07, "HS": 0.05, "XSA": 0.02, "CSIP": 0.015, "XVL": 0.02, "F1": 0.03,
        "MAS": 0.06, "MEP": 0.01, "PEEP": 0.015, "VU": 0.02, "XGANG": 0.02, "RNO121": 0.005,
        "HID": 0.02, "XEL": 0.003,
    },
    "women": {
        "HC": 0.25, "HS": 0.12, "XSA": 0.015, "CSIP": 0.02, "MAS": 0.08, "MEP": 0.01,
        "PEEP": 0.02, "VU": 0.04, "PGWCP": 0.01, "HID": 0.03, "XVL": 0.01,
    },
}  # fmt: skip
_ALERT_COMMENTS = {
    "HC": "Self-harm in custody recorded.",
    "HS": "History of self-harm in the community.",
    "XSA": "Assault on a member of staff.",
    "CSIP": "CSIP plan open.",
}
HEALTH_NEEDS = (
    "Type 2 diabetes; tablets with breakfast and evening meal",
    "Asthma; inhaler kept in possession",
    "Epilepsy; medication twice daily, not in possession",
    "Under the mental health in-reach team; depot injection fortnightly",
    "Opiate substitute therapy; daily dose from the healthcare hatch",
    "Hearing aid (left ear); speak clearly and face the person",
    "Uses a walking stick; lower bunk and ground-floor cell",
    "Anxiety and low mood; sertraline daily",
    "High blood pressure; amlodipine daily",
    "Allergy to penicillin",
    "ADHD diagnosis; prescribed medication reviewed monthly",
    "Learning disability; may need help reading letters and forms",
    "Chronic back pain; physiotherapy referral made",
    "Hepatitis C treatment in progress",
)
_NOTE_TYPES = (
    (CaseNoteType.GENERAL, 0.33),
    (CaseNoteType.KEY_WORK, 0.20),
    (CaseNoteType.OBSERVATION, 0.08),
    (CaseNoteType.SAFER_CUSTODY, 0.07),
    (CaseNoteType.SECURITY, 0.10),
    (CaseNoteType.HEALTH, 0.12),
    (CaseNoteType.MOVEMENT, 0.10),
)
_NOTE_TYPE_CUM = tuple(accumulate(w for _, w in _NOTE_TYPES))
NOTE_TEXTS = {
    CaseNoteType.GENERAL: (
        "{first} was polite on the landing this morning and attended work.",
        "{first} asked about a visit booking; shown how to use the kiosk.",
        "Spoke with {first} about a canteen query; resolved.",
        "{first} attended education and engaged well.",
        "{first} was late for unlock and apologised.",
    ),
    CaseNoteType.KEY_WORK: (
        "Key work session with {first}: discussed family contact and upcoming courses.",
        "Key work: {first} says they are sleeping badly; agreed to check in again on Friday.",
        "Key work: {first} is settled and working in the kitchens.",
        "Key work: talked through {first}'s sentence plan and next steps.",
    ),
    CaseNoteType.OBSERVATION: (
        "Observation: {first} in cell, settled, watching television.",
        "Observation: {first} asleep, breathing seen.",
        "Observation: {first} talking with their cellmate, no concerns.",
    ),
    CaseNoteType.SAFER_CUSTODY: (
        "Safer custody: {first} spoke about feeling low after a phone call; Listener offered.",
        "Safer custody: checked in with {first} after bad news from home; accepted support.",
        "Safer custody: {first} reported being in debt on the wing; referred to the safer "
        "custody team.",
    ),
    CaseNoteType.SECURITY: (
        "Security: information suggests {first} may be involved in debt on the wing.",
        "Security: cell search completed, nothing found.",
        "Security: {first} seen passing an item at association; monitor.",
    ),
    CaseNoteType.HEALTH: (
        "Healthcare: {first} seen at the clinic; medication reviewed.",
        "Healthcare: {first} assessed by the mental health in-reach team; follow-up booked.",
        "Healthcare: dressing changed for {first}; healing well.",
    ),
    CaseNoteType.MOVEMENT: (
        "{first} moved cell at their own request.",
        "{first} returned from court.",
        "{first} attended a legal visit.",
    ),
}
_SENSITIVITY_FOR_TYPE = {
    CaseNoteType.SECURITY: Sensitivity.SENSITIVE,
    CaseNoteType.HEALTH: Sensitivity.HEALTH,
}
_LEGAL_STATUS_LOCAL = (
    (LegalStatus.REMAND, 0.25),
    (LegalStatus.CONVICTED_UNSENTENCED, 0.08),
    (LegalStatus.SENTENCED, 0.55),
    (LegalStatus.RECALL, 0.10),
    (LegalStatus.IMMIGRATION_DETAINEE, 0.015),
    (LegalStatus.CIVIL_PRISONER, 0.005),
)
_LEGAL_STATUS_TRAINING = (
    (LegalStatus.SENTENCED, 0.85),
    (LegalStatus.RECALL, 0.12),
    (LegalStatus.IMMIGRATION_DETAINEE, 0.02),
    (LegalStatus.REMAND, 0.01),
)
# Age bands of the adult prison population, with their shares.
_AGE_BANDS = ((18, 24, 0.15), (25, 29, 0.17), (30, 39, 0.33), (40, 49, 0.19), (50, 59, 0.10),
              (60, 79, 0.06))  # fmt: skip


def _weighted(rng: random.Random, pairs) -> str:
    roll = rng.random() * sum(w for _, w in pairs)
    for value, weight in pairs:
        roll -= weight
        if roll < 0:
            return value
    return pairs[-1][0]


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=_SURNAME_CUM_WEIGHTS)[0]


def _age(rng: random.Random, spec: PrisonSpec) -> int:
    if spec.population == Population.YOUNG_PEOPLE:
        return rng.randint(15, 17)
    if spec.category == PrisonCategory.YOI:
        return rng.randint(18, 20)
    low, high, _ = _weighted(rng, [((lo, hi, w), w) for lo, hi, w in _AGE_BANDS])
    return rng.randint(low, high)


def _days_in_custody(rng: random.Random, legal_status: str) -> int:
    mean = 60 if legal_status in (LegalStatus.REMAND, LegalStatus.CONVICTED_UNSENTENCED) else 500
    return min(5000, 1 + int(rng.expovariate(1 / mean)))


def _alerts(rng: random.Random, spec: PrisonSpec, days: int) -> list[AlertSpec]:
    group = "women" if spec.is_womens else "men"
    alerts = []
    for code, rate in _ALERT_RATES[group].items():
        if rng.random() < rate:
            alerts.append(
                AlertSpec(code, rng.randint(0, days), None, _ALERT_COMMENTS.get(code, ""))
            )
    return alerts


def _notes(rng: random.Random, first: str, days: int) -> list[NoteSpec]:
    count = rng.choices((1, 2, 3, 4, 5), cum_weights=(0.2, 0.5, 0.75, 0.9, 1.0))[0]
    types = [rng.choices(_NOTE_TYPES, cum_weights=_NOTE_TYPE_CUM)[0][0] for _ in range(count)]
    return [
        NoteSpec(
            note_type=note_type,
            sensitivity=_SENSITIVITY_FOR_TYPE.get(note_type, Sensitivity.NORMAL),
            text=rng.choice(NOTE_TEXTS[note_type]).format(first=first),
            days_ago=rng.randint(0, days),
            minute=rng.randint(7 * 60, 21 * 60),
        )
        for note_type in types
    ]


def people_for_prison(
    rng: random.Random, spec: PrisonSpec, numbers: list[str], *, other_prisons: int
) -> list[PersonSpec]:
    """The people held in one prison, one per prison number given."""
    women = spec.is_womens
    statuses = _LEGAL_STATUS_LOCAL if spec.is_local else _LEGAL_STATUS_TRAINING
    transfer_rate = (0.05 if spec.is_local else 0.3) if other_prisons else 0.0
    people = []
    for number in numbers:
        first = rng.choice(FEMALE_FIRST_NAMES if women else MALE_FIRST_NAMES)
        last = surname(rng)
        age = _age(rng, spec)
        birth = REFERENCE_DATE - timedelta(days=365 * age + age // 4 + rng.randint(1, 364))
        legal_status = _weighted(rng, statuses)
        days = _days_in_custody(rng, legal_status)
        person = PersonSpec(
            prison_number=number,
            first_name=first,
            last_name=last,
            sex=Sex.FEMALE if women else Sex.MALE,
            date_of_birth=birth,
            legal_status=legal_status,
            first_language="English" if rng.random() < 0.88 else rng.choice(LANGUAGES),
            health_needs=(
                "; ".join(rng.sample(HEALTH_NEEDS, rng.randint(1, 2))) if rng.random() < 0.3 else ""
            ),
            days_in_custody=days,
        )
        if days >= 3 and rng.random() < transfer_rate:
            person.transfer_from_pick = rng.random()
            person.transfer_days_ago = rng.randint(1, days - 1)
            person.previous_cell_pick = rng.random()
        elif person.days_here >= 2 and rng.random() < 0.2:
            person.previous_cell_pick = rng.random()
            person.moved_days_ago = rng.randint(1, person.days_here - 1)
        person.alerts = _alerts(rng, spec, person.days_here)
        person.notes = _notes(rng, first, person.days_here)
        people.append(person)
    return people


def plan_allocations(
    rng: random.Random,
    layout: PrisonLayout,
    people: list[PersonSpec],
    crisis_first: Mapping[str, int] | None = None,
) -> list[int]:
    """The cell index for each person, never over a cell's working capacity.

    ``crisis_first`` (prison number -> priority, lowest first) names the people who take the safe
    and constant-supervision places while they last: people on an open ACCT (``acct_histories``
    puts those at high risk first). Those cells are otherwise kept free. About half the
    segregation places are used; reserve cells stay empty.
    """
    crisis: list[int] = []
    pool: list[int] = []
    for index, cell in enumerate(layout.cells):
        if cell.deactivated or cell.is_reserve:
            continue
        if cell.is_crisis:
            crisis.extend([index] * cell.working)
        elif cell.is_csu:
            if rng.random() < 0.5:
                pool.extend([index] * cell.working)
        else:
            pool.extend([index] * cell.working)
    rng.shuffle(crisis)
    rng.shuffle(pool)
    priority = crisis_first or {}
    wanting = sorted(
        (p.prison_number for p in people if p.prison_number in priority), key=priority.__getitem__
    )
    in_crisis = {number: crisis.pop() for number in wanting[: len(crisis)]}
    plan = []
    for person in people:
        if person.prison_number in in_crisis:
            plan.append(in_crisis[person.prison_number])
        elif pool:
            plan.append(pool.pop())
        else:
            raise ValueError("Not enough places for the people generated")
    return plan


def crisis_places(layout: PrisonLayout) -> int:
    """Working places in the prison's safe and constant-supervision cells that are in use."""
    return sum(c.working for c in layout.cells if c.is_crisis and not c.deactivated)


# --- Staff -----------------------------------------------------------------------------------

# Username prefix and band for each role; a role added later falls back to its code.
ROLE_USERNAMES = {
    "WING_OFFICER": "officer",
    "CUSTODIAL_MANAGER": "manager",
    "HEALTHCARE": "healthcare",
    "PSYCHOLOGIST": "psych",
    "SECURITY": "security",
    "DUTY_GOVERNOR": "governor",
    "HQ_ANALYST": "analyst",
    "AUDITOR": "auditor",
    "SYSTEM_ADMIN": "admin",
}
ROLE_BANDS = {
    "WING_OFFICER": "3",
    "CUSTODIAL_MANAGER": "5",
    "HEALTHCARE": "NHS 6",
    "PSYCHOLOGIST": "7",
    "SECURITY": "4",
    "DUTY_GOVERNOR": "8",
}
HQ = "hq"


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role_code: str
    band: str
    prison_codes: tuple[str, ...]  # every prison for HQ roles

    @property
    def is_hq(self) -> bool:
        return self.username.endswith(f".{HQ}")


def username_for(role_code: str, prison_code: str | None) -> str:
    prefix = ROLE_USERNAMES.get(role_code, role_code.lower())
    return f"{prefix}.{(prison_code or HQ).lower()}"


def staff(
    rng: random.Random, prisons: list[PrisonSpec], roles: list[tuple[str, bool]]
) -> list[StaffSpec]:
    """One user per role per prison; roles that do not see people are HQ roles over all prisons.

    ``roles`` is (role code, sees people) for each role in accounts/roles.py.
    """
    everywhere = tuple(p.code for p in prisons)
    users = []
    for role_code, sees_people in roles:
        places = [(p.code, (p.code,)) for p in prisons] if sees_people else [(None, everywhere)]
        for prison_code, prison_codes in places:
            first = rng.choice(MALE_FIRST_NAMES + FEMALE_FIRST_NAMES)
            users.append(
                StaffSpec(
                    username=username_for(role_code, prison_code),
                    first_name=first,
                    last_name=surname(rng),
                    role_code=role_code,
                    band=ROLE_BANDS.get(role_code, ""),
                    prison_codes=prison_codes,
                )
            )
    return users


def sub_rng(seed: int, *parts: str) -> random.Random:
    """An independent, reproducible stream per purpose: one prison's size never shifts another's."""
    return random.Random("/".join([str(seed), *parts]))
