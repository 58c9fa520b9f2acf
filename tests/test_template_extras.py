"""Per-norm good-practice examples and regional figures in templates."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from agenda.templates import TemplateError, load_builtin_templates, parse_template

BASE: dict[str, Any] = load_builtin_templates()["participatiescan"].to_public_dict()


def with_extras(**extras: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["themes"][0]["norms"][0].update(extras)
    return data


def test_examples_and_figures_are_loaded_and_served() -> None:
    data = with_extras(
        examples=[{"text": "Een werkgeversservicepunt met vaste contactpersonen.", "link": None}],
        figures=[
            {
                "label": "Jongeren zonder startkwalificatie",
                "value": 312,
                "unit": "jongeren",
                "source": "Voorbeeldbron (test)",
                "date": "2025-10",
                "link": "https://example.org/cijfers",
            }
        ],
    )
    template = parse_template(data, "test.toml")
    norm = template.norms[0]
    assert norm.examples[0].text.startswith("Een werkgeversservicepunt")
    assert norm.figures[0].value == 312.0 and norm.figures[0].date == "2025-10"
    public = template.to_public_dict()
    assert json.loads(json.dumps(public)) == public
    assert parse_template(public, "again.toml") == template
    # A norm without extras looks exactly as before.
    assert "examples" not in public["themes"][0]["norms"][1]


@pytest.mark.parametrize(
    ("extras", "field"),
    [
        ({"figures": [{"label": "x", "value": "12", "source": "s", "date": "2025"}]}, "value"),
        ({"figures": [{"label": "x", "value": 1, "source": "s", "date": "last year"}]}, "date"),
        ({"figures": [{"label": "x", "value": 1, "source": "s", "date": "2025-13"}]}, "date"),
        ({"figures": [{"label": "x", "value": 1, "source": "s", "date": "2025-00"}]}, "date"),
        ({"figures": [{"label": "x", "value": 1, "source": "s", "date": "2025-02-30"}]}, "date"),
        ({"figures": [{"label": "x", "value": 1, "date": "2025"}]}, "source"),
        ({"examples": [{"text": "ok", "link": "javascript:alert(1)"}]}, "link"),
        ({"examples": [{"text": ""}]}, "text"),
        ({"examples": []}, "examples"),
    ],
)
def test_bad_extras_name_the_field(extras: dict[str, Any], field: str) -> None:
    with pytest.raises(TemplateError) as error:
        parse_template(with_extras(**extras), "bad.toml")
    assert field in str(error.value) and "bad.toml" in str(error.value)
