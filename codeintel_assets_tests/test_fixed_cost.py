"""The fixed cost of an update (issue 19): every DuckDB open costs 15-25 ms and every Dagster
step more, and a commit that changes no file pays them all. The gateway counts its opens
(`locking.duckdb_opens`); these tests hold the count and the check steps of a no-change
ingest run to what the steps need, and check that a derived step whose inputs' content tokens
did not change keeps its tables (storage/tokens.py)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from codeintel_assets import run
from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.defs.resources import TargetRepo, UpstreamMissingError, Warehouse
from codeintel_assets.storage.catalog import table
from codeintel_assets.storage.check_memo import memoized
from codeintel_assets.storage.gateway import Derived, StorageGateway
from codeintel_assets.storage.locking import duckdb_opens
from codeintel_assets.storage.queries import KeyViolations, primary_key_violations
from codeintel_assets.storage.tokens import read_tokens
from codeintel_assets_tests.conftest import git, make_git_repo

# Measured on this test's tree: 34 opens (45 before a step whose files did not change kept
# its tables over one connection; 50 before the inputs were checked and the snapshot commit
# read over shared connections, and before the primary-key checks were grouped per step). A
# little headroom; a step that opens once per table breaks it.
NO_CHANGE_INGEST_OPENS = 37


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


def test_a_derived_step_keeps_its_tables_until_an_input_changes(tmp_path):
    """The call graph (core.goids, definition_refs, call_sites, imports; SCIP absent) after a
    no-change commit is kept (materialized as unchanged, rows at the new commit); after a
    one-file edit adding a call it is rebuilt and has the new edge. That a kept table equals
    a rebuild is test_incremental's property (its selection includes the call graph)."""
    repo = make_git_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/a.py": (
        "def f(x):\n    return g(x)\n\n\ndef g(y):\n    return y\n")})
    db, select = tmp_path / "w.duckdb", "*graph/call_graph_edges"

    def update() -> dict:
        result = run.materialize(select, target=str(repo), db=str(db), tools=[],
                                 console_log=False)
        assert result.success
        return {e.asset_key.to_user_string(): e.materialization.metadata
                for e in result.get_asset_materialization_events()}

    assert update()["graph/call_graph_edges"]["unchanged"].value is False
    git(repo, "commit", "-q", "--allow-empty", "-m", "no change")
    kept = update()["graph/call_graph_edges"]
    assert kept["unchanged"].value is True and kept["dagster/row_count"].value == 1
    assert StorageGateway(db).query("SELECT DISTINCT commit FROM graph.call_graph_edges"
                                    ).column(0).to_pylist() == [git(repo, "rev-parse", "HEAD")]
    (repo / "pkg/a.py").write_text((repo / "pkg/a.py").read_text()
                                   + "\n\ndef h():\n    return f(1)\n")
    git(repo, "commit", "-qam", "h calls f")
    assert update()["graph/call_graph_edges"]["unchanged"].value is False
    callers = StorageGateway(db).query(
        "SELECT n.qualname FROM graph.call_graph_edges e JOIN core.goids n "
        "ON n.goid = e.caller_goid ORDER BY 1").column(0).to_pylist()
    assert callers == ["pkg.a.f", "pkg.a.h"]


def test_a_content_token_ignores_commit_and_row_order(tmp_path):
    """storage.tokens: the same rows at another commit or in another order keep the token,
    another value changes it; a skip check keeps a table built from the same input tokens and
    gives it the inputs' commit, and a changed input makes it rebuild."""
    gateway, spec = StorageGateway(tmp_path / "w.duckdb"), table("core.modules")
    derived = table("graph.import_modules")

    def modules(commit: str, names: list[str]):
        rows = [{c: None for c in spec.column_names} | {
            "repo": "r", "commit": commit, "module": n, "rel_path": f"{n}.py"} for n in names]
        return pa.Table.from_pylist(rows, schema=spec.arrow_schema)

    def token() -> str:
        with gateway.connect() as con:
            return read_tokens(con, [spec.qualified_name], "r")[spec.qualified_name].token

    gateway.replace_repo_rows(spec, "r", modules("c1", ["a", "b"]))
    first = token()
    gateway.replace_repo_rows(spec, "r", modules("c2", ["b", "a"]))
    assert token() == first
    gateway.replace_repo_rows(spec, "r", modules("c2", ["a", "c"]))
    assert token() != first
    check = gateway.skip_unchanged([derived], [spec.qualified_name], "r", "salt")
    assert check.input_digest and not check.unchanged  # never built: build
    gateway.replace_repo_rows(derived, "r", Derived(derived.empty(), check.input_digest))
    gateway.replace_repo_rows(spec, "r", modules("c3", ["c", "a"]))
    kept = gateway.skip_unchanged([derived], [spec.qualified_name], "r", "salt")
    assert kept.unchanged[derived.qualified_name].commit == "c3"
    assert not gateway.skip_unchanged([derived], [spec.qualified_name], "r", "other").unchanged
    gateway.replace_repo_rows(spec, "r", modules("c4", ["a"]))
    assert not gateway.skip_unchanged([derived], [spec.qualified_name], "r", "salt").unchanged

    # Inputs at two commits (a tool step that did not run at c5) give no digest: a table built
    # from them is rebuilt once they agree, though no input row changed (derived steps join
    # their inputs on commit: review finding).
    state = table("core.file_state")
    gateway.replace_repo_rows(state, "r", pa.Table.from_pylist(
        [{c: None for c in state.column_names} | {"repo": "r", "commit": "c4",
                                                   "rel_path": "a.py"}],
        schema=state.arrow_schema))
    inputs = [spec.qualified_name, state.qualified_name]
    agreed = gateway.skip_unchanged([derived], inputs, "r", "salt")
    gateway.replace_repo_rows(derived, "r", Derived(derived.empty(), agreed.input_digest))
    assert agreed.input_digest
    assert gateway.skip_unchanged([derived], inputs, "r", "salt").unchanged  # kept
    # A touched file (its mtime moved, not its bytes) keeps core.file_state's token.
    gateway.replace_repo_rows(state, "r", pa.Table.from_pylist(
        [{c: None for c in state.column_names} | {"repo": "r", "commit": "c4",
                                                   "rel_path": "a.py", "mtime_ns": 7}],
        schema=state.arrow_schema))
    assert gateway.skip_unchanged([derived], inputs, "r", "salt").unchanged
    gateway.replace_repo_rows(spec, "r", modules("c5", ["a"]))  # core.file_state lags at c4
    lagging = gateway.skip_unchanged([derived], inputs, "r", "salt")
    assert lagging.input_digest is None and not lagging.unchanged
    gateway.replace_repo_rows(derived, "r", Derived(derived.empty(), lagging.input_digest))
    gateway.replace_repo_rows(state, "r", pa.Table.from_pylist(
        [{c: None for c in state.column_names} | {"repo": "r", "commit": "c5",
                                                   "rel_path": "a.py"}],
        schema=state.arrow_schema))
    assert not gateway.skip_unchanged([derived], inputs, "r", "salt").unchanged


def test_a_check_result_is_kept_until_its_table_changes(tmp_path):
    """storage.check_memo: a check's result is computed once, answered from the memo while its
    table's rows are the same (another commit too), and computed again when a row changes."""
    gateway, spec = StorageGateway(tmp_path / "w.duckdb"), table("core.modules")
    calls: list[list[str]] = []

    def write(commit: str, names: list[str]) -> None:
        rows = [{c: None for c in spec.column_names} | {
            "repo": "r", "commit": commit, "module": n, "rel_path": f"{n}.py"} for n in names]
        gateway.replace_repo_rows(spec, "r", pa.Table.from_pylist(rows, schema=spec.arrow_schema))

    def check_now() -> KeyViolations:
        return primary_key_violations(gateway, [spec], "r")[spec.qualified_name]

    def check() -> KeyViolations:
        def compute(names):
            calls.append(names)
            return {n: v for n, v in zip(names, primary_key_violations(
                gateway, [spec], "r").values())}
        return memoized(gateway, "r", {"pk": [spec.qualified_name]}, compute,
                        KeyViolations)["pk"]

    write("c1", ["a", "b"])
    assert check().row_count == 2 and len(calls) == 1
    write("c2", ["b", "a"])  # same rows at another commit: the memo answers
    assert check().row_count == 2 and len(calls) == 1
    write("c3", ["a", "b", "c"])
    assert check().row_count == 3 and len(calls) == 2
    # A write lands after the memo read its tokens and before the check runs: the result (of
    # the new rows) is not filed under the digest of the rows before, so when the table holds
    # those rows again the check runs again instead of answering 1.
    write("c4", ["a", "b", "c", "d"])
    racing = memoized(gateway, "r", {"pk": [spec.qualified_name]},
                      lambda names: (write("c5", ["a"]), {"pk": check_now()})[1], KeyViolations)
    assert racing["pk"].row_count == 1
    write("c6", ["a", "b", "c", "d"])
    assert check().row_count == 4 and len(calls) == 3
