"""The topic taxonomy of the welcome kit (shared ``topics.yml``).

taxonomy = load_taxonomy(path)
taxonomy.topics["tax-code"].domain  # "documents"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Topic:
    id: str
    domain: str
    asks: str


@dataclass(frozen=True)
class Taxonomy:
    domains: tuple[str, ...]
    topics: dict[str, Topic]

    def by_domain(self) -> dict[str, list[Topic]]:
        grouped: dict[str, list[Topic]] = {domain: [] for domain in self.domains}
        for topic in self.topics.values():
            grouped.setdefault(topic.domain, []).append(topic)
        return grouped


def load_taxonomy(path: Path) -> Taxonomy:
    """Read the taxonomy; a missing file names the setting that points at it."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Topic taxonomy {path} not found: set content.taxonomy in helpdesk.yml "
            "(environment: HELPDESK_TAXONOMY) to the shared topics.yml"
        ) from None
    topics = {
        item["id"]: Topic(id=item["id"], domain=item["domain"], asks=item.get("asks", ""))
        for item in raw["topics"]
    }
    return Taxonomy(domains=tuple(raw.get("domains", [])), topics=topics)
