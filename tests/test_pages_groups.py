"""From notes to actions in Chromium: a suggested group with a readable title, renamed in the
control view, voted on as one item on the phones, and promoted to the agenda with its norm."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from agenda.templates import load_builtin_templates
from tests.browser import screenshot
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard, open_phone, set_phase

NORMS = load_builtin_templates()["participatiescan"].norms


def test_a_group_is_renamed_voted_on_as_one_and_promoted_with_its_norm(
    kleur: ServerProcess, browser: Browser
) -> None:
    errors: list[str] = []
    room = kleur.create_room()
    dashboard = open_dashboard(browser, room, errors)
    phones = [open_phone(browser, room, errors) for _ in range(2)]
    for phase in ("rating", "reveal", "brainstorm"):
        set_phase(dashboard, phase, phones)
    norm = NORMS[2]
    ideas = ["Stagebank voor de hele regio", "Regionale stagebank voor jongeren"]
    for page, idea in zip(phones, ideas, strict=True):
        page.get_by_test_id("note-text").fill(idea)
        page.get_by_test_id("note-norm").select_option(norm.id)
        page.get_by_test_id("note-submit").click()
        expect(page.get_by_test_id("own-note")).to_have_count(1)
    phones[1].get_by_test_id("note-text").fill("Vaste contactpersoon bij UWV")
    phones[1].get_by_test_id("note-submit").click()
    expect(phones[1].get_by_test_id("own-note")).to_have_count(2)
    # Moderation is on: the notes wait until the facilitator approves them (all three first).
    expect(dashboard.locator("[data-testid^='pending-']")).to_have_count(3)
    dashboard.get_by_test_id("approve-all").click()

    # The suggestion is titled with a note as written, not a lower-case keyword.
    suggestions = dashboard.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text("Stagebank voor de hele regio")
    suggestions.locator("[data-testid^='suggest-merge-']").first.click()
    group = dashboard.locator("section[data-testid^='group-']")
    expect(group).to_have_count(1)
    group_id = (group.get_attribute("data-testid") or "").removeprefix("group-")

    # Renamed in the control view.
    dashboard.get_by_test_id(f"rename-group-{group_id}").click()
    field = dashboard.get_by_test_id(f"rename-input-{group_id}")
    expect(field).to_be_focused()
    field.fill("Eén stagebank voor de regio")
    dashboard.get_by_test_id(f"rename-save-{group_id}").click()
    expect(group.locator(".group__title")).to_have_text("Eén stagebank voor de regio")
    expect(field).to_be_hidden()

    # Dot voting: the group is one item on the phones, and new notes are closed.
    dashboard.get_by_test_id("voting-open").click()
    for page in phones:
        expect(page.get_by_test_id(f"vote-plus-{group_id}")).to_be_visible()
        expect(page.get_by_test_id("note-text")).to_have_count(0)
    item = phones[0].locator(f"[data-note-id='{group_id}']")
    expect(item).to_contain_text("Eén stagebank voor de regio")
    expect(item).to_contain_text(ideas[1])  # its notes are listed under its title
    # No separate item for a note that is in the group.
    expect(phones[0].locator(".vote-item")).to_have_count(2)
    for page in phones:
        page.get_by_test_id(f"vote-plus-{group_id}").click()
        expect(page.get_by_test_id("dots-left")).to_contain_text("2")
    screenshot(phones[0], "phone-voting-group")
    expect(dashboard.get_by_test_id("dots-cast")).to_have_attribute("data-count", "2")
    dashboard.get_by_test_id("voting-show").click()
    expect(group.locator(".group__meta")).to_contain_text("2 stippen")
    expect(phones[1].get_by_test_id("vote-results")).to_contain_text("Eén stagebank voor de regio")

    # Promoted: the group's title becomes the action, linked to the norm its notes are about.
    dashboard.get_by_test_id(f"promote-group-{group_id}").click()
    expect(dashboard.get_by_test_id("agenda-action")).to_have_value("Eén stagebank voor de regio")
    expect(dashboard.get_by_test_id("agenda-norm")).to_have_value(norm.id)
    screenshot(dashboard, "dashboard-group-promoted")
    assert errors == []
