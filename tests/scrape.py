"""Read a server's ``GET /metrics`` as numbers, with prometheus-client's parser."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True, slots=True)
class Scrape:
    """One scrape: every sample by name and label set, and the raw text."""

    text: str
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """A sample's value; 0 when the server has not shown it yet (a counter
        whose label set never happened)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of ``name`` over every label set that has ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def label_values(self) -> set[str]:
        return {value for _, labels in self.samples for _, value in labels}

    def label_names(self) -> set[str]:
        return {name for _, labels in self.samples for name, _ in labels}


def parse(text: str) -> Scrape:
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return Scrape(text, samples)


def scrape(http_url: str) -> Scrape:
    """The server's metrics now."""
    response = httpx.get(f"{http_url}/metrics", timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)
