"""The fixed cost of an update (issue 19): every DuckDB open costs 15-25 ms and every Dagster
step more, and a commit that changes no file pays them all. The gateway counts its opens
(`locking.duckdb_opens`); these tests hold the count and the check steps of a no-change
ingest run to what the steps need."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeintel_assets import run
from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.defs.resources import TargetRepo, UpstreamMissingError, Warehouse
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.gateway import StorageGateway
from codeintel_assets.storage.locking import duckdb_opens
from codeintel_assets_tests.conftest import git, make_git_repo

# Measured on this repository's tree: 45 opens (50 before the inputs were checked and the
# snapshot commit read over shared connections, and before the primary-key checks were
# grouped per step). A little headroom; a step that opens once per table breaks it.
NO_CHANGE_INGEST_OPENS = 48


def test_every_gateway_connection_is_counted(tmp_path):
    gateway = StorageGateway(tmp_path / "w.duckdb")
    before = duckdb_opens()
    gateway.query("SELECT 1")
    with gateway.connect(read_only=True):
        pass
    assert duckdb_opens() == before + 2


def test_a_step_checks_all_its_inputs_over_one_connection(tmp_path):
    repo = make_git_repo(tmp_path / "r", {"a.py": "X = 1\n"})
    db = tmp_path / "w.duckdb"
    warehouse = Warehouse(target=TargetRepo(root=str(repo)), db_path=str(db))
    slug = warehouse.target.info().slug
    for name in ("core.file_state", "core.modules", "core.repo_map"):  # empty, but written
        StorageGateway(db).replace_repo_rows(table(name), slug, table(name).empty())
    before = duckdb_opens()
    warehouse.require("core.file_state", "core.modules", "core.repo_map")
    assert warehouse.has("core.file_state", "core.modules")
    assert duckdb_opens() == before + 2
    with pytest.raises(UpstreamMissingError, match="core.ast_nodes has not been materialized"):
        warehouse.require("core.file_state", "core.ast_nodes")
    assert not warehouse.has("core.file_state", "core.ast_nodes")


def test_a_no_change_commit_opens_the_warehouse_a_bounded_number_of_times(tmp_path):
    """What the sensor and the hook launch (codeintel_ingest_job's selection) after a commit
    that changes no file: every table is current, at a bounded number of opens, with one
    primary-key check step per producing step."""
    repo = make_git_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/a.py": (
        "import os\n\n\ndef f(x):\n    '''Doc.'''\n    return os.path.join(x, 'y')\n"),
        "pyproject.toml": "[tool.demo]\nname = 'x'\n"})
    db = tmp_path / "w.duckdb"

    def update() -> tuple[object, int]:
        before = duckdb_opens()
        result = run.materialize(INGEST_SELECTION, target=str(repo), db=str(db), tools=[],
                                 console_log=False)
        return result, duckdb_opens() - before

    assert update()[0].success
    git(repo, "commit", "-q", "--allow-empty", "-m", "no change")
    result, opens = update()
    assert result.success
    assert 10 < opens <= NO_CHANGE_INGEST_OPENS, opens
    steps = {e.step_key for e in result.get_step_success_events()}
    assert {s for s in steps if s.endswith("_primary_keys")} == {
        f"{s}_primary_keys" for s in ("repo_scan", "cst_extract",
                                      "config_ingest", "goids")}
    assert not any(s.endswith("_primary_key_unique_not_null") for s in steps)
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed
                   for e in result.get_asset_check_evaluations()}
    assert evaluations[("core/ast_nodes", "primary_key_unique_not_null")] is True
    # Every row describes the new commit.
    head = git(repo, "rev-parse", "HEAD")
    assert Path(db).exists()
    commits = StorageGateway(db).query(
        "SELECT DISTINCT commit FROM core.ast_nodes UNION SELECT DISTINCT commit FROM "
        "core.file_state").column(0).to_pylist()
    assert commits == [head]
