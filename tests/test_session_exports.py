"""A session's name, region and date from creation to every export, and one
middle range on the dashboard and in every export (issue 9, acceptance 7 and 8).

Real server, real Redis, real websockets; the dashboard in a real headless
Chromium.  The participants are Python clients on a loop of their own
(``tests.test_pages_analysis.Crowd``).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import docx
import httpx
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from agenda.templates import load_builtin_templates
from protocol import limits
from protocol.phases import DotVoting, Phase
from tests.support import ServerProcess
from tests.test_pages import browser as browser  # the module-scoped fixture, shared
from tests.test_pages import open_dashboard
from tests.test_pages_analysis import Crowd, go
from tests.test_pages_analysis import crowds as crowds  # the fixture, shared

SCAN = load_builtin_templates()["participatiescan"]
#: Norm 4 gets 1 1 2 5 5 8 8 8: agenda.stats.quantile says 1.5-8, linear
#: interpolation (the dashboard's old code, spreadsheets' QUARTILE) 1.75-8.
PLANTED = SCAN.norms[3].id
PLANTED_RATINGS = [1, 1, 2, 5, 5, 8, 8, 8]
#: Two camps on ten norms (2 against 9), so the analysis finds opinion groups.
CAMP_NORMS = [norm.id for norm in SCAN.norms[4:14]]
SESSION = {"name": "Participatiescan Zwolle", "region": "IJsselland", "date": "2027-01-15"}


def _create(kleur: ServerProcess, **fields: object) -> httpx.Response:
    return httpx.post(
        f"{kleur.http_url}/api/rooms", json={"template": "participatiescan", **fields}
    )


def _today_in_amsterdam() -> str:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()


def test_a_room_takes_a_session_name_region_and_date(kleur: ServerProcess) -> None:
    response = _create(
        kleur, name="  Participatiescan Zwolle ", region="IJsselland", date="2027-01-15"
    )
    assert response.status_code == 201, response.text
    assert response.json()["session"] == SESSION  # trimmed
    # Without them: empty texts and today's date where the sessions are held.
    before = _today_in_amsterdam()
    plain = _create(kleur)
    after = _today_in_amsterdam()
    assert plain.status_code == 201
    session = plain.json()["session"]
    assert session["name"] == session["region"] == ""
    assert session["date"] in {before, after}


def test_bad_session_fields_get_a_clear_400(kleur: ServerProcess) -> None:
    too_long = "x" * (limits.MAX_SESSION_NAME_CHARS + 1)
    cases = {
        "name": ({"name": too_long}, f"name must be at most {limits.MAX_SESSION_NAME_CHARS}"),
        "region": (
            {"region": "y" * (limits.MAX_SESSION_REGION_CHARS + 1)},
            f"region must be at most {limits.MAX_SESSION_REGION_CHARS}",
        ),
        "name type": ({"name": 12}, "name must be text"),
        "date format": ({"date": "15-01-2027"}, "date: must be a date YYYY-MM-DD"),
        "no such day": ({"date": "2027-02-30"}, "date: must be a date YYYY-MM-DD"),
        "date type": ({"date": 20270115}, "date: must be a date YYYY-MM-DD"),
        "control character": ({"region": "Ijssel\x07land"}, None),
    }
    for case, (fields, detail) in cases.items():
        response = _create(kleur, **fields)
        if detail is None:
            # Control characters are dropped, as in every other text.
            assert response.status_code == 201, case
            assert response.json()["session"]["region"] == "Ijsselland"
            continue
        assert response.status_code == 400, case
        assert response.json()["error"] == "invalid_field", case
        assert detail in response.json()["detail"], (case, response.json())
    # Exactly the limit is fine.
    exact = _create(kleur, name="x" * limits.MAX_SESSION_NAME_CHARS)
    assert exact.status_code == 201


def test_one_middle_range_and_the_session_from_dashboard_to_every_export(
    kleur: ServerProcess, browser: Browser, crowds: list[Crowd]
) -> None:
    """Acceptance 7 and 8 through the real server: the dashboard shows the
    server's middle range for the planted norm in whole scores (``most_low``/``most_high``:
    1–8 for quartiles 1.5 and 8), the documents the same range (1–8), the CSV and JSON 1.5 and 8; they also
    carry the session, dot counts, note groups, contested norms and opinion groups."""
    response = _create(kleur, **SESSION)
    assert response.status_code == 201
    room = response.json()
    errors: list[str] = []
    dashboard = open_dashboard(browser, room, errors)
    expect(dashboard.get_by_test_id("session-name")).to_have_text(
        "Participatiescan Zwolle · IJsselland"
    )
    crowd = Crowd(kleur, room)
    crowds.append(crowd)
    crowd.join(len(PLANTED_RATINGS), [None])
    facilitator = crowd.join_facilitator()
    crowd.call(lambda: facilitator.set_moderation(False))  # about exports, not approval
    go(dashboard, "rating")
    crowd.wait_phase(Phase.RATING)
    camps = len(PLANTED_RATINGS) // 2

    def plan(index: int, norm: str) -> int:
        if norm == PLANTED:
            return PLANTED_RATINGS[index]
        return 2 if index < camps else 9

    crowd.rate(plan, [PLANTED, *CAMP_NORMS])
    expect(dashboard.get_by_test_id(f"norm-{PLANTED}")).to_have_attribute("data-received", "8")
    go(dashboard, "reveal")
    stats = dashboard.get_by_test_id(f"norm-{PLANTED}").locator(".norm__stats")
    expect(stats).to_contain_text("meeste cijfers 1–8")
    assert "1,75" not in stats.inner_text() and "1,5" not in stats.inner_text()
    snapshot = crowd.facilitator_dashboard(lambda d: d.analysis is not None)
    assert snapshot.session is not None and snapshot.session.name == SESSION["name"]
    insight = next(n for n in snapshot.analysis.norms if n.norm_id == PLANTED)  # type: ignore[union-attr]
    assert (insight.q1, insight.q3) == (1.5, 8.0)
    assert (insight.most_low, insight.most_high) == (1, 8)  # for the screens to write

    # Notes, a group and dots, shown.
    go(dashboard, "brainstorm")
    crowd.wait_phase(Phase.BRAINSTORM)
    first = crowd.note(0, "Eén loket voor ouders", PLANTED)
    second = crowd.note(1, "Loket ook op zaterdag", None)
    third = crowd.note(2, "Vaste contactpersoon per school", None)
    group = crowd.call(lambda: facilitator.put_note_group("Eén loket", (first, second)))
    crowd.call(lambda: facilitator.set_dot_voting(DotVoting.OPEN, 3, 3))

    async def vote() -> None:
        # A group is one item: its dots go on the group, not on its notes.
        await crowd.people[0].dot_vote(group, 3)
        await crowd.people[1].dot_vote(group, 1)
        await crowd.people[2].dot_vote(third, 2)

    crowd.call(vote)
    crowd.call(lambda: facilitator.set_dot_voting(DotVoting.SHOWN, 3, 3))
    crowd.facilitator_dashboard(lambda d: d.voting.results is not None)

    headers = {"Authorization": f"Bearer {room['facilitator_token']}"}
    base = f"{kleur.http_url}/api/rooms/{room['code']}/export"
    names = {}
    bodies = {}
    for fmt in ("md", "json", "csv", "csv-semicolon", "docx", "pdf"):
        reply = httpx.get(f"{base}.{fmt}?lang=nl", headers=headers)
        assert reply.status_code == 200, (fmt, reply.text)
        names[fmt] = reply.headers["content-disposition"]
        bodies[fmt] = reply.content
    code = room["code"]
    # The session's name and date, then the code (agenda.export.file_name).
    stem = f"kleur-participatiescan-zwolle-2027-01-15-{code}"
    assert names == {
        "md": f'attachment; filename="{stem}.md"',
        "json": f'attachment; filename="{stem}.json"',
        "csv": f'attachment; filename="{stem}-csv.zip"',
        "csv-semicolon": f'attachment; filename="{stem}-csv-semicolon.zip"',
        "docx": f'attachment; filename="{stem}.docx"',
        "pdf": f'attachment; filename="{stem}.pdf"',
    }

    result = json.loads(bodies["json"])
    assert result["session"] == SESSION
    planted = next(n for t in result["themes"] for n in t["norms"] if n["id"] == PLANTED)
    assert (planted["q1"], planted["q3"]) == (1.5, 8)
    assert result["opinion_groups"]["outcome"] == "groups"
    assert [g["size"] for g in result["opinion_groups"]["groups"]] == [4, 4]
    # A grouped note has no dots of its own (it is listed by its group's 4); the loose note has 2.
    assert [(note["text"], note["dots"]) for note in result["notes"]] == [
        ("Eén loket voor ouders", None),
        ("Loket ook op zaterdag", None),
        ("Vaste contactpersoon per school", 2),
    ]
    assert result["groups"] == [
        {
            "title": "Eén loket",
            "notes": ["Eén loket voor ouders", "Loket ook op zaterdag"],
            "dots": 4,
        }
    ]

    with zipfile.ZipFile(io.BytesIO(bodies["csv"])) as archive:
        files = {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
    assert sorted(files) == sorted(
        ["session.csv", "agenda.csv", "norms.csv", "notes.csv", "groups.csv", "opinion-groups.csv"]
    )
    assert "Participatiescan Zwolle,IJsselland,2027-01-15" in files["session.csv"]
    assert ",1.5,8," in next(line for line in files["norms.csv"].splitlines() if PLANTED in line)

    document = docx.Document(io.BytesIO(bodies["docx"]))
    docx_text = [p.text for p in document.paragraphs]
    docx_text += [
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    ]
    pdf_text = [page.extract_text() for page in PdfReader(io.BytesIO(bodies["pdf"])).pages]
    texts = {"md": bodies["md"].decode(), "docx": "\n".join(docx_text), "pdf": "\n".join(pdf_text)}
    for fmt, text in texts.items():
        flat = " ".join(text.replace("|", " ").split())
        # Written in whole scores, rounded outward (agenda.stats.shown_range).
        assert "4. Ondersteuning bij stages 8 5 1–8" in flat, fmt
        assert "1,75" not in flat and "1,5–8" not in flat, fmt
        assert "Verbeteragenda: Participatiescan Zwolle" in flat, fmt
        assert "Regio: IJsselland · Datum: 15 januari 2027" in flat, fmt
        assert "Hier was de groep het oneens" in flat, fmt
        assert "de meeste cijfers liggen tussen 1 en 8" in flat, fmt
        assert "Groep A 4 Groep B 4" in flat, fmt
        assert "Eén loket (4 stippen)" in flat, fmt
        assert "Vaste contactpersoon per school (2 stippen)" in flat, fmt
        assert "null" not in flat and "None" not in flat, fmt
    assert errors == []
