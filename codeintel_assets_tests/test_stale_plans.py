"""Planning and writing are not one transaction: a FileDelta carries the ledger state it was
planned against, the gateway refuses it (StalePlanError) when another writer changed the
ledger in between, and the step runs again and plans anew."""

from __future__ import annotations

import dataclasses
import logging
import types

import duckdb
import pytest

from codeintel_assets import run
from codeintel_assets.extract.parallel import ExtractResult
from codeintel_assets.storage import incremental
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.compare import table_differences
from codeintel_assets.storage.gateway import (
    FileDelta,
    StalePlanError,
    StorageGateway,
    ledger_digest,
)
from codeintel_assets_tests.conftest import make_git_repo

SPEC = table("core.ast_metrics")
REPO = "acme/w"
LOG = logging.getLogger(__name__)
# An extractor module as the engine sees one: it declares VERSION and LIBRARIES.
EXTRACTOR = types.ModuleType("fake_metrics")
EXTRACTOR.VERSION, EXTRACTOR.LIBRARIES = 1, ()


def _metrics(paths, loc):
    return SPEC.from_rows([{"repo": REPO, "commit": "c", "rel_path": p, "loc": loc}
                           for p in paths])


def _extract(loc):
    return lambda paths: ExtractResult({SPEC.qualified_name: _metrics(paths, loc)},
                                       files=len(paths))


def _update(gateway, fingerprints, loc) -> FileDelta:
    result = incremental.update_files(gateway, REPO, [SPEC.qualified_name], fingerprints,
                                      EXTRACTOR, _extract(loc), "c", LOG,
                                      policy=incremental.RebuildPolicy(full_rebuild_share=1.0))
    return result.deltas[SPEC.qualified_name]


def _rows(gateway):
    return sorted(gateway.read_table(SPEC, REPO, ["rel_path", "loc"]).to_pylist(),
                  key=lambda r: r["rel_path"])


def test_a_delta_planned_against_a_changed_ledger_is_refused_and_a_replan_applies(tmp_path):
    gateway = StorageGateway(tmp_path / "w.duckdb")
    gateway.apply_delta(SPEC, REPO, _update(gateway, {"a.py": "1", "b.py": "1"}, loc=1))
    # Two writers plan from the same ledger: one edits a.py, the other b.py.
    mine = _update(gateway, {"a.py": "2", "b.py": "1"}, loc=2)
    theirs = _update(gateway, {"a.py": "1", "b.py": "3"}, loc=3)
    assert mine.to_delete == ("a.py",) and not mine.full
    gateway.apply_delta(SPEC, REPO, theirs)
    before = (_rows(gateway), gateway.ledger(SPEC, REPO))

    with pytest.raises(StalePlanError, match="another writer changed it"):
        gateway.apply_delta(SPEC, REPO, mine)
    assert (_rows(gateway), gateway.ledger(SPEC, REPO)) == before  # nothing written

    # The retry plans against the ledger as it is now and applies.
    retry = _update(gateway, {"a.py": "2", "b.py": "3"}, loc=2)
    assert retry.to_delete == ("a.py",)
    gateway.apply_delta(SPEC, REPO, retry)
    assert _rows(gateway) == [{"rel_path": "a.py", "loc": 2}, {"rel_path": "b.py", "loc": 3}]
    assert gateway.ledger(SPEC, REPO)[1] == {"a.py": "2", "b.py": "3"}


def test_a_plan_made_before_the_table_existed_is_refused_once_it_does(tmp_path):
    gateway = StorageGateway(tmp_path / "w.duckdb")
    first = _update(gateway, {"a.py": "1"}, loc=1)
    gateway.apply_delta(SPEC, REPO, _update(gateway, {"b.py": "1"}, loc=9))
    with pytest.raises(StalePlanError):
        gateway.apply_delta(SPEC, REPO, first)
    assert _rows(gateway) == [{"rel_path": "b.py", "loc": 9}]
    # A delta without a plan state (a writer that does not plan) is not checked.
    unchecked = FileDelta(_metrics(["a.py"], 1), (), {"a.py": "1"}, "v", "c", True)
    gateway.apply_delta(SPEC, REPO, unchecked)
    assert _rows(gateway) == [{"rel_path": "a.py", "loc": 1}]


def test_the_step_retries_when_another_writer_changes_the_ledger(tmp_path, monkeypatch):
    repo = make_git_repo(tmp_path / "r", {"pkg/__init__.py": "",
                                          "pkg/a.py": "def f():\n    pass\n",
                                          "pkg/b.py": "class B:\n    pass\n"})
    db = tmp_path / "w.duckdb"
    assert run.materialize("core/file_state,core/ast_nodes", target=str(repo), db=str(db),
                           tools=[]).success
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE core.ast_nodes SET qualname = 'stale' WHERE rel_path = 'pkg/a.py'")
    original = incremental.plan_tables
    interfered = []

    def plan_then_interfere(gateway, repo_slug, tables, fingerprints, *args, **kwargs):
        plans = original(gateway, repo_slug, tables, fingerprints, *args, **kwargs)
        if "core.ast_nodes" in tables and not interfered:
            # Another writer, after this plan: it forgets pkg/a.py in the ledger.
            spec = table("core.ast_nodes")
            version, files = gateway.ledger(spec, repo_slug)
            files.pop("pkg/a.py")
            gateway.apply_delta(spec, repo_slug, FileDelta(
                spec.empty(), (), files, version, "", False))
            interfered.append(True)
        return plans

    monkeypatch.setattr(incremental, "plan_tables", plan_then_interfere)
    result = run.materialize("core/ast_nodes", target=str(repo), db=str(db), tools=[],
                             full_rebuild_share=1.0)
    assert result.success and interfered
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1
    # The retry saw pkg/a.py as new to the ledger and rebuilt its rows.
    assert run.materialize("core/file_state,core/ast_nodes", target=str(repo),
                           db=str(tmp_path / "full.duckdb"), tools=[]).success
    assert table_differences(db, tmp_path / "full.duckdb", ["core.ast_nodes"]) == {}


def test_rows_derived_from_another_table_are_refused_when_it_changed(tmp_path):
    """config_values' references are matched against core.string_literals as planned: if
    another writer changes the literals before config_values is written, it is refused."""
    gateway = StorageGateway(tmp_path / "w.duckdb")
    literals, config = table("core.string_literals"), table("analytics.config_values")

    def literal_rows(paths):
        return literals.from_rows([{"repo": REPO, "commit": "c", "rel_path": p, "module": None,
                                    "literal": "host"} for p in paths])

    gateway.apply_delta(literals, REPO, FileDelta(literal_rows(["a.py"]), (), {"a.py": "1"},
                                                  "v", "c", True))
    planned = ledger_digest(gateway.ledger(literals, REPO))
    values = config.from_rows([{"repo": REPO, "commit": "c", "config_path": "app.toml",
                                "key": "host", "format": "toml", "value_type": "str",
                                "value_preview": "db", "reference_paths": '["a.py"]',
                                "reference_modules": "[]", "reference_count": 1}])
    delta = FileDelta(values, (), {"app.toml": "1"}, "v", "c", True,
                      derived_from={literals.qualified_name: planned})
    # Another writer: a.py no longer has the literal.
    gateway.apply_delta(literals, REPO, FileDelta(literal_rows([]), ("a.py",), {"a.py": "2"},
                                                  "v", "c", False))
    with pytest.raises(StalePlanError, match="core.string_literals"):
        gateway.apply_delta(config, REPO, delta)
    assert not gateway.table_exists(config) or \
        gateway.read_table(config, REPO).num_rows == 0
    # Derived from the literals as they are now, it applies.
    fresh = ledger_digest(gateway.ledger(literals, REPO))
    gateway.apply_delta(config, REPO, dataclasses.replace(
        delta, derived_from={literals.qualified_name: fresh}))
    assert gateway.read_table(config, REPO, ["key"]).to_pylist() == [{"key": "host"}]
