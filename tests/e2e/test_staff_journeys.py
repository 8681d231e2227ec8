"""Staff journeys in a real browser, each page checked with axe-core."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_officer_signs_in_finds_a_person_and_adds_a_case_note(
    page, e2e_estate, axe, sign_in, assert_styled, screenshot
):
    # Sign in; working in two prisons, the officer is asked which one.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    axe(page, "sign in")
    assert_styled(page)
    page.get_by_label("Username").fill("officer.both")
    page.get_by_label("Password", exact=True).fill(e2e_estate["password"])
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/choose-prison/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Which prison")
    axe(page, "choose prison")
    page.get_by_label("HMP Northfold").check()
    page.get_by_role("button", name="Continue").click()

    # The prison page lists its wings; the wing page shows who is in each cell.
    expect(page).to_have_url(re.compile(r"/estate/ZNA/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("HMP Northfold")
    axe(page, "prison")
    page.get_by_role("link", name="Wing A", exact=True).click()
    expect(page).to_have_url(re.compile(r"/estate/ZNA/wings/A/$"))
    expect(page.get_by_role("link", name="BRIGHTWATER, Sam")).to_be_visible()
    axe(page, "wing")

    # Search, then open the profile from the results.
    page.get_by_role("link", name="Find a person").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a person")
    axe(page, "search form")
    page.get_by_label("Name or prison number").fill("brightwater")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 person found")).to_be_visible()
    axe(page, "search results")
    page.get_by_role("link", name="BRIGHTWATER, Sam").click()

    expect(page).to_have_url(re.compile(r"/people/A1234BC/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("BRIGHTWATER, Sam")
    expect(page.get_by_text("No case notes.")).to_be_visible()
    axe(page, "profile")

    # An empty case note: the GOV.UK error summary, focused, linking to the field.
    page.get_by_role("button", name="Add a case note").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a case note")
    axe(page, "case note form")
    page.get_by_role("button", name="Save case note").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Enter the case note")).to_have_attribute(
        "href", "#text"
    )
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#text-error")).to_contain_text("Enter the case note")
    axe(page, "case note form with errors")

    # Now a real one: back on the profile, the note is there.
    page.get_by_label("Type").select_option(label="Key work")
    page.get_by_label("Case note").fill("Settled on the wing; asked about education courses.")
    page.get_by_role("button", name="Save case note").click()
    expect(page).to_have_url(re.compile(r"/people/A1234BC/$"))
    expect(page.get_by_text("Settled on the wing; asked about education courses.")).to_be_visible()
    expect(page.locator(".govuk-summary-card__title")).to_contain_text("Key work")
    axe(page, "profile with a case note")
    assert_styled(page)
    screenshot(page, "e2e-profile.png")

    # Sign out: a confirmation page, then back to sign in; the profile is no longer reachable.
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out")
    axe(page, "sign out")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in/$"))
    page.goto("/people/A1234BC/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))


def test_health_needs_shown_to_healthcare_and_not_to_an_officer(page, e2e_estate, axe, sign_in):
    sign_in(page, "nurse.north")
    page.goto("/people/A1234BC/")
    details = page.locator(".govuk-summary-list")
    expect(details).to_contain_text("Health needs")
    expect(details).to_contain_text("Insulin-dependent diabetes")
    axe(page, "profile as healthcare")
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in/$"))

    sign_in(page, "officer.north", check=False)
    page.goto("/people/A1234BC/")
    expect(page.get_by_role("heading", level=1)).to_have_text("BRIGHTWATER, Sam")
    expect(page.locator("main")).not_to_contain_text("Health needs")
    expect(page.locator("main")).not_to_contain_text("Insulin-dependent diabetes")
    axe(page, "profile as officer")


def test_officer_cannot_open_a_person_in_another_prison(page, e2e_estate, axe, sign_in):
    sign_in(page, "officer.north", check=False)
    response = page.goto("/people/B2345CD/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text("HOLLINS")
    axe(page, "404")
    # Nor through a search.
    page.goto("/people/?q=Hollins")
    expect(page.get_by_role("heading", name="0 people found")).to_be_visible()
    for path in ("/people/B2345CD/case-notes/new/", "/estate/ZSO/"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
