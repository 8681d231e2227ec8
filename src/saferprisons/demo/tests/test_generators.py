"""The generators are pure: same seed, same data; and every spec keeps the domain's rules."""

import re
from collections import Counter

from saferprisons.accounts.roles import ROLES
from saferprisons.demo import generators as gen
from saferprisons.demo.acct_histories import acct_histories, crisis_priority
from saferprisons.estate.constants import MAX_CAPACITY, CellTypeCode
from saferprisons.people.constants import PRISON_NUMBER_RE


def _people(seed: int, size: str = "demo"):
    specs = gen.prisons_for_size(gen.sub_rng(seed, "prisons"), size)
    numbers = gen.prison_numbers(
        gen.sub_rng(seed, "numbers"), sum(s.target_population for s in specs)
    )
    people, offset = [], 0
    for spec in specs:
        rng = gen.sub_rng(seed, spec.code, "people")
        chunk = numbers[offset : offset + spec.target_population]
        offset += spec.target_population
        people += gen.people_for_prison(rng, spec, chunk, other_prisons=len(specs) - 1)
    return people


def test_same_seed_gives_identical_people_and_another_seed_does_not():
    first, again, other = _people(11), _people(11), _people(12)
    assert [(p.prison_number, p.first_name, p.last_name, p.date_of_birth) for p in first] == [
        (p.prison_number, p.first_name, p.last_name, p.date_of_birth) for p in again
    ]
    assert [p.prison_number for p in first] != [p.prison_number for p in other]


def test_same_seed_gives_identical_estate():
    one = gen.estate_prisons(gen.sub_rng(5, "prisons"))
    two = gen.estate_prisons(gen.sub_rng(5, "prisons"))
    assert one == two
    layout_a = gen.prison_layout(gen.sub_rng(5, one[0].code, "layout"), one[0])
    layout_b = gen.prison_layout(gen.sub_rng(5, one[0].code, "layout"), one[0])
    assert layout_a == layout_b


def test_estate_is_120_fictional_prisons_adding_up_to_the_national_population():
    prisons = gen.estate_prisons(gen.sub_rng(1, "prisons"))
    assert len(prisons) == 120
    assert sum(p.target_population for p in prisons) == gen.ESTATE_POPULATION
    assert len({p.code for p in prisons}) == 120
    assert len({p.name for p in prisons}) == 120
    for prison in prisons:
        assert re.fullmatch(r"[ZQ][A-Z]{2}", prison.code)
        assert prison.name.startswith("HMP ")
        assert not gen.is_real_prison_name(prison.name), prison.name
        assert 20 <= prison.target_population <= gen.ESTATE_MAX_PRISON_POPULATION
    kinds = Counter(p.category for p in prisons)
    assert kinds["C"] > kinds["B"] > kinds["A"] > 0
    assert any(p.is_womens for p in prisons)


def test_real_prison_names_are_recognised_and_the_demo_ones_are_not():
    assert gen.is_real_prison_name("HMP Oakwood")
    assert gen.is_real_prison_name("HMP Eastwood Park")
    assert gen.is_real_prison_name("HMP Askham Grange")
    assert gen.is_real_prison_name("HMP Oakwood Heath")  # a real name with a word added
    for prison in gen.DEMO_PRISONS:
        assert not gen.is_real_prison_name(prison.name)
        assert prison.code.startswith("Z")


def test_prison_numbers_are_unique_and_nomis_shaped():
    numbers = gen.prison_numbers(gen.sub_rng(3, "numbers"), 20_000)
    assert len(set(numbers)) == 20_000
    assert all(PRISON_NUMBER_RE.match(n) for n in numbers)


def test_people_have_names_from_the_lists_and_dates_of_birth_from_the_fixed_date():
    people = _people(4)
    firsts = set(gen.MALE_FIRST_NAMES) | set(gen.FEMALE_FIRST_NAMES)
    for person in people:
        assert person.first_name in firsts
        assert person.last_name in gen.SURNAMES
        age = (gen.REFERENCE_DATE - person.date_of_birth).days // 365
        assert 15 <= age <= 80
        assert person.days_in_custody >= 1
    women = [p for p in people if p.sex == "F"]
    assert women and all(p.first_name in gen.FEMALE_FIRST_NAMES for p in women)


def test_alert_rates_are_plausible_and_acct_alerts_are_left_to_the_acct_histories():
    people = _people(8)
    for person in people:
        active = [a.code for a in person.alerts if a.ended_days_ago is None]
        assert len(active) == len(set(active))  # one active alert per code
        assert not {"HA", "HA1", "HA2"} & {a.code for a in person.alerts}
        for alert in person.alerts:
            assert alert.ended_days_ago is None or alert.ended_days_ago <= alert.days_ago
    notes = Counter(n.sensitivity for p in people for n in p.notes)
    assert notes["NORMAL"] > notes["HEALTH"] > 0 and notes["SENSITIVE"] > 0
    assert 0.2 < sum(bool(p.health_needs) for p in people) / len(people) < 0.4


def test_layout_keeps_capacity_rules_and_has_the_special_cells():
    for spec in gen.DEMO_PRISONS:
        layout = gen.prison_layout(gen.sub_rng(2, spec.code, "layout"), spec)
        paths = [c.path for c in layout.cells]
        assert len(paths) == len(set(paths))
        for cell in layout.cells:
            assert cell.cna <= cell.working <= cell.maximum <= MAX_CAPACITY
            assert cell.wing in set(gen.WING_LETTERS) | {gen.CSU_WING}
            assert cell.landing in {"1", "2", "3", "4"}
            if CellTypeCode.SAFE_CELL in cell.cell_types:
                assert cell.certified_days_ago is not None
        types = Counter(t for c in layout.cells for t in c.cell_types)
        assert types[CellTypeCode.SAFE_CELL] >= 2
        assert types[CellTypeCode.CONSTANT_SUPERVISION] >= 1
        assert types[CellTypeCode.CSU] >= 3
        assert types[CellTypeCode.ACCESSIBLE_CELL] >= 2
        assert sum(c.deactivated for c in layout.cells) == 2
        single_or_double = sum(c.working <= 2 for c in layout.cells) / len(layout.cells)
        assert single_or_double > 0.9


def test_allocation_plan_respects_capacity_and_puts_acct_people_in_safe_cells():
    spec = gen.DEMO_PRISONS[1]  # the women's prison has the most people on an ACCT
    rng = gen.sub_rng(9, spec.code, "people")
    layout = gen.prison_layout(gen.sub_rng(9, spec.code, "layout"), spec)
    numbers = gen.prison_numbers(gen.sub_rng(9, "numbers"), spec.target_population)
    people = gen.people_for_prison(rng, spec, numbers, other_prisons=2)
    histories = acct_histories(
        gen.sub_rng(9, spec.code, "acct"),
        spec,
        people,
        safer_places=gen.crisis_places(layout),
        showcase=False,
    )
    priority = crisis_priority(histories)
    plan = gen.plan_allocations(rng, layout, people, priority)
    use = Counter(plan)
    for index, count in use.items():
        cell = layout.cells[index]
        assert count <= cell.working
        assert not cell.deactivated and not cell.is_reserve
    by_number = {h.prison_number: h for h in histories}
    in_crisis = {
        p.prison_number for p, i in zip(people, plan, strict=True) if layout.cells[i].is_crisis
    }
    # Only people on an open ACCT are in the safe cells, and everyone at high risk who should be.
    assert in_crisis and in_crisis <= set(priority)
    assert all(by_number[n].status == "OPEN" for n in in_crisis)
    assert {n for n, rank in priority.items() if rank == 0} <= in_crisis
    places = sum(c.working for c in layout.cells if not c.deactivated)
    assert 0.8 < len(people) / places < 0.95


def test_staff_cover_every_role_with_hq_roles_over_all_prisons():
    prisons = list(gen.DEMO_PRISONS)
    roles = [(code, role.sees_people) for code, role in ROLES.items()]
    users = gen.staff(gen.sub_rng(1, "staff"), prisons, roles)
    assert {u.role_code for u in users} == set(ROLES)
    assert len({u.username for u in users}) == len(users)
    names = {u.username for u in users}
    assert {"officer.zla", "manager.zea", "healthcare.ztf", "psych.zla", "security.zla"} <= names
    assert {"governor.zla", "analyst.hq", "auditor.hq", "admin.hq"} <= names
    for user in users:
        if user.is_hq:
            assert user.prison_codes == ("ZLA", "ZEA", "ZTF")
        else:
            assert len(user.prison_codes) == 1
    bands = {u.username: u.band for u in users}
    assert (bands["officer.zla"], bands["manager.zla"], bands["healthcare.zla"]) == (
        "3",
        "5",
        "NHS 6",
    )
