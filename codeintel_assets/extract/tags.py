"""Path tags (analytics.tags_index) and CODEOWNERS owners for core.modules.

Tag rules come from `tags_index.yaml` at the repository root, either as a list
(`tags: [{tag, description, includes, excludes}]`) or a mapping (`tag: {description, includes,
excludes}`); without the file the built-in DEFAULT_TAGS apply. Patterns are gitignore-style
(pathspec). Owners follow GitHub's CODEOWNERS rules: the last matching line wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pathspec
import yaml

TAGS_FILE = "tags_index.yaml"
CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class TagRule:
    tag: str
    description: str
    includes: tuple[str, ...]
    excludes: tuple[str, ...] = ()

    def matches(self, paths: list[str]) -> list[str]:
        inc = pathspec.GitIgnoreSpec.from_lines(self.includes)
        exc = pathspec.GitIgnoreSpec.from_lines(self.excludes)
        return [p for p in paths if inc.match_file(p) and not exc.match_file(p)]


DEFAULT_TAGS = (
    TagRule("tests", "test code (pytest/unittest conventions)",
            ("tests/", "test/", "testing/", "test_*.py", "*_test.py", "conftest.py")),
    TagRule("docs", "documentation sources", ("docs/", "doc/")),
    TagRule("examples", "example code", ("examples/", "example/")),
    TagRule("scripts", "scripts and command-line helpers", ("scripts/", "bin/")),
    TagRule("migrations", "database migrations", ("migrations/",)),
)


class TagRulesError(ValueError):
    """tags_index.yaml exists but is not valid YAML of the documented shape."""


def load_tag_rules(root: str | Path) -> tuple[TagRule, ...]:
    """Rules from `<root>/tags_index.yaml`, else DEFAULT_TAGS. Raises TagRulesError."""
    path = Path(root) / TAGS_FILE
    if not path.is_file():
        return DEFAULT_TAGS
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TagRulesError(f"{TAGS_FILE}: not valid YAML: {exc}") from exc
    entries = doc.get("tags", doc) if isinstance(doc, dict) else doc
    if isinstance(entries, dict):
        entries = [{"tag": k, **(v or {})} for k, v in entries.items()]
    if not isinstance(entries, list):
        raise TagRulesError(f"{TAGS_FILE}: expected a list of tags or a mapping of tag -> rule")
    rules = []
    for entry in entries:
        if not isinstance(entry, dict) or "tag" not in entry:
            raise TagRulesError(f"{TAGS_FILE}: each tag needs a 'tag' name: {entry!r}")
        rules.append(TagRule(str(entry["tag"]), str(entry.get("description") or ""),
                             tuple(map(str, entry.get("includes") or ())),
                             tuple(map(str, entry.get("excludes") or ()))))
    return tuple(rules)


def load_codeowners(root: str | Path) -> list[tuple[pathspec.GitIgnoreSpec, list[str]]]:
    """(pattern, owners) rules of the first CODEOWNERS file found, in file order."""
    for location in CODEOWNERS_LOCATIONS:
        path = Path(root) / location
        if path.is_file():
            rules = []
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                pattern, *owners = line.split()
                rules.append((pathspec.GitIgnoreSpec.from_lines([pattern]), owners))
            return rules
    return []


def owners_of(rules: list[tuple[pathspec.GitIgnoreSpec, list[str]]], rel_path: str) -> list[str]:
    for spec, owners in reversed(rules):
        if spec.match_file(rel_path):
            return owners
    return []
