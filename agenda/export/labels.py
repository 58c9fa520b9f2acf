"""The words of every export, in Dutch and English: headings, column labels, notes.

Every language has the same keys and the same {placeholders}; a test checks.
Every renderer takes its words from one language's table (``in_language``),
so a label changed here changes in every format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

LANGUAGES = frozenset({"nl", "en"})

_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "nl": {
        "title": "Verbeteragenda",
        "room": "Sessie",
        "participants": "Deelnemers",
        "round": "Ronde",
        "exported": "Gemaakt op",
        "scores": "Scores per norm",
        "theme": "Thema",
        "number": "Nr.",
        "norm_id": "Norm-id",
        "norm": "Norm",
        "answers": "Antwoorden",
        "median": "Mediaan",
        "dont_know": "Weet niet",
        "score": "Score",
        "distribution": "Verdeling",
        "distribution_note": (
            "Verdeling: het aantal antwoorden per score, van {min} (links) tot {max} (rechts). "
            "De mediaan en de verdeling tellen ‘weet niet’ niet mee."
        ),
        "hidden": "nog niet getoond",
        "hidden_note": (
            "De scores zijn nog niet getoond: hier staat alleen hoeveel antwoorden er zijn."
        ),
        "agenda": "Afgesproken acties",
        "action": "Actie",
        "owner": "Trekker",
        "deadline": "Uiterlijk klaar",
        "follow_up": "Voortgang bespreken op",
        "none": "Nog geen acties.",
        "notes": "Ideeën uit de brainstorm",
        "rounds": "Wat veranderde in ronde {round}",
        "rounds_note": "Mediaan en eensgezindheid (0 tot 1) tegenover de ronde ervoor.",
        "median_rounds": "Mediaan ronde {before} en {round}",
        "then_now": "was {before}, nu {now}",
        "in_round": "{label} ronde {round}",
        "median_change": "Verschil mediaan",
        "consensus_change": "Verschil eensgezindheid",
        "since_previous": "Sinds de vorige scan ({room})",
        "median_before": "Mediaan toen",
        "earlier_actions": "Acties van de vorige scan",
        "status": "Stand",
        "status_open": "nog open",
        "status_in_progress": "bezig",
        "status_done": "klaar",
        "status_dropped": "gestopt",
        "idea": "Idee",
        "gap_importance": "Belang tegenover score",
        "gap_ideal": "Gewenst niveau tegenover score",
        "gap_note_importance": (
            "Per norm het belang (mediaan) en het verschil: belang min score. "
            "Hoe groter het verschil, hoe verder de score achterblijft bij wat de tafel "
            "belangrijk vindt."
        ),
        "gap_note_ideal": (
            "Per norm het gewenste niveau (mediaan) en het verschil: gewenst niveau min score. "
            "Hoe groter het verschil, hoe meer er nog te doen is."
        ),
        "second_importance": "Belang",
        "second_ideal": "Gewenst niveau",
        "gap": "Verschil",
        "theme_gap": "Gemiddeld verschil",
        "page": "pagina {page}",
        "decimal": ",",
        "session_name": "Naam",
        "region": "Regio",
        "date": "Datum",
        "template": "Vragenlijst",
        "most_between": "Meeste cijfers",
        "most_sentence": "de meeste cijfers liggen tussen {low} en {high}",
        "most_one": "de meeste cijfers zijn {value}",
        "q1": "Eerste kwartiel (Q1)",
        "q3": "Derde kwartiel (Q3)",
        "consensus": "Eensgezind (0–1)",
        "contested": "Hier was de groep het oneens",
        "contested_note": (
            "Bij deze normen liepen de cijfers ver uiteen, of viel de groep in twee kampen. "
            "Eensgezind: 1 als iedereen hetzelfde cijfer gaf, 0 bij twee even grote kampen "
            "aan de uiteinden."
        ),
        "contested_column": "Groep oneens",
        "no_contested": "Bij geen enkele norm was de groep het duidelijk oneens.",
        "split": "twee kampen",
        "yes": "ja",
        "no": "nee",
        "opinion_groups": "Groepen die er hetzelfde over denken",
        "opinion_groups_note": (
            "Mensen die ongeveer dezelfde cijfers gaven, vormen samen een groep. "
            "Wie in welke groep zit, staat nergens."
        ),
        "opinion_group": "Groep {letter}",
        "people": "Mensen",
        "separating": "Hier verschilden de groepen het meest (mediaan per groep)",
        "no_separating": "Op geen enkele norm verschilden de groepen duidelijk.",
        "groups_none": "Er waren geen duidelijke groepen.",
        "groups_too_few": "Te weinig deelnemers voor groepen.",
        "dots": "Stippen",
        "dots_n": "{n} stippen",
        "dots_one": "1 stip",
        "note_group": "Groep",
        "loose_ideas": "Overige ideeën",
        "months": (
            "januari februari maart april mei juni juli augustus september oktober "
            "november december"
        ),
    },
    "en": {
        "title": "Improvement agenda",
        "room": "Session",
        "participants": "Participants",
        "round": "Round",
        "exported": "Exported",
        "scores": "Scores per norm",
        "theme": "Theme",
        "number": "No.",
        "norm_id": "Norm id",
        "norm": "Norm",
        "answers": "Answers",
        "median": "Median",
        "dont_know": "Don't know",
        "score": "Score",
        "distribution": "Distribution",
        "distribution_note": (
            "Distribution: the number of answers per score, from {min} (left) to {max} (right). "
            "The median and the distribution leave out ‘don’t know’."
        ),
        "hidden": "not revealed yet",
        "hidden_note": "The scores are not revealed yet: only the number of answers is shown.",
        "agenda": "Agreed actions",
        "action": "Action",
        "owner": "Owner",
        "deadline": "Deadline",
        "follow_up": "Review progress on",
        "none": "No actions yet.",
        "notes": "Ideas from the brainstorm",
        "rounds": "What changed in round {round}",
        "rounds_note": "Median and consensus (0 to 1) against the round before.",
        "median_rounds": "Median rounds {before} and {round}",
        "then_now": "was {before}, now {now}",
        "in_round": "{label} round {round}",
        "median_change": "Median change",
        "consensus_change": "Consensus change",
        "since_previous": "Since the previous scan ({room})",
        "median_before": "Median then",
        "earlier_actions": "Actions of the previous scan",
        "status": "Status",
        "status_open": "still open",
        "status_in_progress": "in progress",
        "status_done": "done",
        "status_dropped": "dropped",
        "idea": "Idea",
        "gap_importance": "Importance against score",
        "gap_ideal": "Ideal level against score",
        "gap_note_importance": (
            "Per norm its importance (median) and the gap: importance minus score. "
            "The larger the gap, the further the score falls short of what the table "
            "finds important."
        ),
        "gap_note_ideal": (
            "Per norm the ideal level (median) and the gap: ideal level minus score. "
            "The larger the gap, the more there is still to do."
        ),
        "second_importance": "Importance",
        "second_ideal": "Ideal level",
        "gap": "Gap",
        "theme_gap": "Mean gap",
        "page": "page {page}",
        "decimal": ".",
        "session_name": "Name",
        "region": "Region",
        "date": "Date",
        "template": "Template",
        "most_between": "Most scores",
        "most_sentence": "most scores lie between {low} and {high}",
        "most_one": "most scores are {value}",
        "q1": "First quartile (Q1)",
        "q3": "Third quartile (Q3)",
        "consensus": "Consensus (0–1)",
        "contested": "Where the group disagreed",
        "contested_note": (
            "On these norms the scores lay far apart, or the group fell into two camps. "
            "Consensus: 1 when everyone gave the same score, 0 for two equal camps at "
            "the ends of the scale."
        ),
        "contested_column": "Group disagreed",
        "no_contested": "The group did not clearly disagree on any norm.",
        "split": "two camps",
        "yes": "yes",
        "no": "no",
        "opinion_groups": "Groups that think alike",
        "opinion_groups_note": (
            "People who gave about the same scores form a group. "
            "Who is in which group is recorded nowhere."
        ),
        "opinion_group": "Group {letter}",
        "people": "People",
        "separating": "Where the groups differed most (median per group)",
        "no_separating": "The groups did not clearly differ on any norm.",
        "groups_none": "There were no clear groups.",
        "groups_too_few": "Too few participants for groups.",
        "dots": "Dots",
        "dots_n": "{n} dots",
        "dots_one": "1 dot",
        "note_group": "Group",
        "loose_ideas": "Other ideas",
        "months": (
            "January February March April May June July August September October November December"
        ),
    },
}


def in_language(lang: str) -> Mapping[str, str]:
    """Every heading and label of an export, in ``lang`` ("nl" or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown export language {lang!r}")
    return _TEXT[lang]
