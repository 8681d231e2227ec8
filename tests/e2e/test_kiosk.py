"""The prisoner kiosk in a real browser: PIN sign-in, own details only, Welsh, sign-out."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

KIOSK_SIGN_OUT = "form[action$='/kiosk/sign-out/'] button"


def kiosk_sign_in(page, number: str, pin: str):
    page.get_by_label("Prison number").fill(number)
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Sign in").click()


def test_prisoner_signs_in_sees_own_details_switches_to_welsh_and_signs_out(
    page, e2e_estate, axe, assert_styled, screenshot
):
    page.goto("/kiosk/")
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the kiosk")
    axe(page, "kiosk sign in")
    assert_styled(page)

    kiosk_sign_in(page, "a1234bc", e2e_estate["pin"])  # lower case is accepted
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Sam")
    main = page.locator("main")
    expect(main).to_contain_text("A1234BC")
    expect(main).to_contain_text("HMP Northfold")
    expect(main).not_to_contain_text("Hollins")
    expect(main).not_to_contain_text("Insulin")  # health data never reaches the kiosk
    axe(page, "kiosk home")
    assert_styled(page)
    screenshot(page, "e2e-kiosk-home.png")

    # Cymraeg: the page is marked as Welsh and reads in Welsh (src/saferprisons/locale/cy).
    page.get_by_role("link", name="Cymraeg").click()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("link", name="English")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sam")
    expect(page.locator(KIOSK_SIGN_OUT)).to_have_text("Allgofnodi")
    axe(page, "kiosk home in Welsh")
    screenshot(page, "e2e-kiosk-home-cy.png")

    page.locator(KIOSK_SIGN_OUT).click()
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in/$"))
    axe(page, "kiosk sign in after signing out")
    page.goto("/kiosk/")
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in/$"))


def test_wrong_pin_shows_the_error_summary(page, e2e_estate, axe):
    page.goto("/kiosk/sign-in/")
    kiosk_sign_in(page, "A1234BC", "0000")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text("Enter a correct prison number and PIN")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("Prison number")).to_have_value("A1234BC")
    expect(page.get_by_label("PIN", exact=True)).to_have_value("")
    axe(page, "kiosk sign in with errors")
    # A right PIN after one wrong one still works.
    kiosk_sign_in(page, "A1234BC", e2e_estate["pin"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Sam")
