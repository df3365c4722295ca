"""Plain-Python entry points: run a selection in-process, list the steps, summarise a database.

    from codeintel_assets.run import materialize, steps, summary
    materialize("core/ast_nodes+", target="/path/to/repo")   # legacy selection syntax
    print(steps())                                          # [{step, tables, requires}, ...]
    query("SELECT count(*) FROM core.goids")                # Arrow; waits for a running write
"""

from __future__ import annotations

import dataclasses
import functools
import os

import dagster as dg

from codeintel_assets import ask, launch
from codeintel_assets.defs.loggers import run_loggers
from codeintel_assets.defs.resources import TargetRepo, Warehouse
from codeintel_assets.defs.shapes import REPOSITORIES, Shape, build_definitions
from codeintel_assets.storage.fleet import (
    Registry,
    fleet_home,
    partition_db,
    partition_key,
)

# Public here as before (scripts and tests build run config with it); defined in launch.py.
run_config = launch.run_config
# Public here as before; defined in ask.py, which `codeintel-assets query` loads without Dagster.
query, query_stream = ask.query, ask.query_stream


@functools.cache
def definitions(shape: Shape = Shape(launch.SINGLE),
                extra_assets: tuple[dg.AssetsDefinition, ...] = ()) -> dg.Definitions:
    """The Definitions of `shape` with a user's `extra_assets` (built once per process)."""
    return build_definitions(shape, list(extra_assets))


def materialize(select: str | dg.AssetSelection = "*", target: str | None = None,
                db: str | None = None, tools: list[str] | None = None,
                instance: dg.DagsterInstance | None = None, raise_on_error: bool = True,
                tool_config: dict | None = None, full_rebuild: bool = False,
                full_rebuild_share: float | None = None,
                target_python: str | None = None,
                log_file: str | os.PathLike | None = None,
                console_log: bool = True, fleet: str | os.PathLike | None = None,
                run_tests: bool | None = None, tags: dict[str, str] | None = None,
                extra_assets: tuple[dg.AssetsDefinition, ...] = (),
                step_config: dict[str, dict] | None = None,
                ) -> dg.ExecuteInProcessResult:
    """Materialize the assets matching `select` (comma-separated, as `dagster asset
    materialize --select`, or an AssetSelection) and their checks, in this process. `tools`
    lists the ToolService tools to run (default: all of pyright, pyrefly, ruff, tests, scip);
    `target_python` is the target's interpreter (default: see TargetRepo.python). File-level
    tables update incrementally unless `full_rebuild` (see Warehouse).

    Dagster's events go to the terminal (stderr) at DEBUG, as Dagster's default. `log_file`
    also appends them to that file; `console_log=False` keeps them off the terminal. With
    either, step starts, ends and check results also reach the `progress` listener.

    `fleet` (a fleet home) runs the fleet shape instead: `target` is registered in the fleet's
    registry by hand if it is not there (the sensor keeps it), `run_tests` (if given) sets
    whether automation may run its tests, and its partition is materialized into the
    partition's own DuckDB file (`db` is then ignored). `tags` are added to the
    run's tags; `extra_assets` are a user's own assets (see README, "Your own SQL assets"), selectable too.
    `step_config` is the steps' own run config, as the launchpad's `ops:` section: step name ->
    its config (`{"risk_factors": {"coverage": 0.4}, "hotspots": {"window_days": 90}}`)."""
    target = launch.checked_target(target)
    shape = Shape(launch.FLEET, str(fleet_home(fleet))) if fleet else Shape(launch.SINGLE)
    defs = definitions(shape, tuple(extra_assets))
    graph = defs.resolve_asset_graph()
    selection = select if isinstance(select, dg.AssetSelection) else \
        dg.AssetSelection.from_coercible(select.split(","))
    keys = selection.resolve(graph)
    job = defs.resolve_implicit_global_asset_job_def()
    config = launch.run_config(None if fleet else target, None if fleet else db, tools,
                               tool_config, full_rebuild, full_rebuild_share, target_python)
    if step_config:
        config = {**config, "ops": {name: {"config": c} for name, c in step_config.items()}}
    options = {"instance": instance, "asset_selection": list(keys), "tags": tags,
               "raise_on_error": raise_on_error}
    if fleet:
        options["partition_key"] = _register(shape, target, run_tests, instance)
        if instance is None:
            options["instance"] = dg.DagsterInstance.ephemeral()
            options["instance"].add_dynamic_partitions(REPOSITORIES.name,
                                                       [options["partition_key"]])
    if log_file is None and console_log:  # Dagster's default loggers, untouched
        return job.execute_in_process(run_config=config, **options)
    with run_loggers(log_file, console_log) as loggers:
        return job.with_logger_defs({**job.loggers, **loggers.defs}).execute_in_process(
            run_config={**config, "loggers": loggers.config}, **options)


def _register(shape: Shape, root: str, run_tests: bool | None,
              instance: dg.DagsterInstance | None) -> str:
    """Register the checkout at `root` in the fleet (and `instance`'s partitions) if missing;
    its partition key."""
    checkout = Registry(shape.home).register(root, run_tests)
    if instance is not None and not instance.has_dynamic_partition(REPOSITORIES.name,
                                                                    checkout.key):
        instance.add_dynamic_partitions(REPOSITORIES.name, [checkout.key])
    return checkout.key


def db_file(target: str | None = None, db: str | None = None,
            fleet: str | os.PathLike | None = None) -> str:
    """The DuckDB file `materialize` and `summary` use for these arguments: `db`, else
    $CODEINTEL_DB, else <target>/.codeintel/codeintel.duckdb; with `fleet`, the target's
    partition's file in that fleet home."""
    if fleet:
        root = launch.target_root(target)
        return str(partition_db(fleet_home(fleet), partition_key(root)))
    return str(ask.db_file(target, db))


def _warehouse(target: str | None, db: str | None) -> Warehouse:
    tgt = TargetRepo(root=target) if target else TargetRepo()
    # An unset db_path keeps the field's default ($CODEINTEL_DB), as a run's config does.
    return Warehouse(target=tgt, **({"db_path": db} if db else {}))


def steps() -> list[dict]:
    """The step graph: each step with the tables it writes and the steps it requires."""
    assets = [a for a in definitions().assets if isinstance(a, dg.AssetsDefinition)]
    producer = {k: a.node_def.name for a in assets for k in a.keys}
    out = []
    for a in assets:
        deps = {d for k in a.keys for d in a.asset_deps[k]}
        out.append({
            "step": a.node_def.name,
            "tables": sorted(".".join(k.path) for k in a.keys),
            "requires": sorted({producer[d] for d in deps if d in producer} - {a.node_def.name}),
            "reads": sorted(".".join(d.path) for d in deps),
        })
    return out


def summary(target: str | None = None, db: str | None = None,
            fleet: str | os.PathLike | None = None, include_vendored: bool = False) -> dict:
    """Rows per table for the target repository, its ten most complex files and its ten
    riskiest functions outside test code (in the fleet at `fleet`: its partition's database),
    vendored code left out unless `include_vendored` (`vendored_left_out`: what was, None
    when included), and how many Python files it has. FileNotFoundError when there is no
    warehouse yet."""
    from codeintel_assets.storage.catalog import TABLES
    from codeintel_assets.storage.summary import repo_summary

    warehouse = _warehouse(target, db_file(target, db, fleet) if fleet else db)
    gateway = warehouse.gateway()
    if not gateway.db_path.exists():
        raise FileNotFoundError(f"no warehouse at {gateway.db_path}: materialize first")
    repo = warehouse.target.info().slug
    found = repo_summary(gateway, repo, list(TABLES), include_vendored)
    return {"repo": repo, "root": warehouse.target.abs_root, "db": str(gateway.db_path),
            "python_files": found.python_files, "rows": found.rows,
            "most_complex_files": [{"rel_path": p, "complexity": c, "loc": n}
                                   for p, c, n in found.most_complex_files],
            "riskiest_functions": [dataclasses.asdict(f) for f in found.riskiest_functions],
            "vendored_left_out": dataclasses.asdict(found.vendored) if found.vendored else None,
            "line_coverage": {**dataclasses.asdict(found.line_coverage),
                              "percent": round(found.line_coverage.percent, 2)}
            if found.line_coverage else None}


def print_partitions(fleet: str | os.PathLike) -> int:
    """`codeintel-assets partitions`: print the partitions of the fleet at `fleet` (key, root,
    run_tests, the commit last ingested); 0, or 1 with the error on stderr."""
    import sys

    from codeintel_assets.storage.fleet import FleetError
    from codeintel_assets.storage.fleet_catalog import partitions
    from codeintel_assets.storage.gateway import default_read_timeout_s
    from codeintel_assets.storage.locking import LockTimeoutError

    home = fleet_home(fleet)
    try:
        found = partitions(home, default_read_timeout_s(), "codeintel-assets partitions",
                           lambda message: print(message, file=sys.stderr))
    except (FleetError, LockTimeoutError) as exc:
        print(f"partitions: {exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"no repository registered in the fleet at {home}: list them in "
              "fleet/repositories.yaml (the fleet sensor registers them) or run "
              "`codeintel-assets materialize --fleet --target PATH`")
        return 0
    width = max(len(p.key) for p in found)
    print(f"{'partition':<{width}}  run_tests  commit        root")
    for p in found:
        how = " (registered by hand)" if p.checkout.by_hand else ""
        print(f"{p.key:<{width}}  {'yes' if p.checkout.run_tests else 'no':<9}  "
              f"{p.commit[:12] or '-':<12}  {p.checkout.root}{how}")
    return 0


def format_summary(info: dict) -> str:
    lines = [f"repo {info['repo']} -> {info['db']}"]
    if info.get("python_files") == 0:  # the tables are validly empty: say why
        lines.append(f"no Python files found under {info['root']}")
    lines += ["", "rows per table:"]
    width = max(map(len, info["rows"]), default=0)
    lines += [f"  {name:<{width}} {count:>10,}" for name, count in sorted(info["rows"].items())]
    lines += ["", "ten most complex files (decision points, lines):"]
    lines += [f"  {f['complexity']:>6} {f['loc']:>7}  {f['rel_path']}"
              for f in info["most_complex_files"]]
    if info.get("riskiest_functions"):
        lines += ["", "ten riskiest functions outside tests (risk 0-1, level, where, top reasons):"]
        lines += [f"  {f['risk_score']:.2f} {f['risk_level']:<6} {f['qualname']} "
                  f"({f['rel_path']}:{f['lineno']}): {'; '.join(f['reasons'])}"
                  for f in info["riskiest_functions"]]
    if info.get("line_coverage"):
        cov = info["line_coverage"]
        lines += ["", f"line coverage {cov['percent']:.1f}%: {cov['covered']:,} of "
                      f"{cov['statements']:,} statements in {cov['files']:,} files (as coverage.py "
                      f"reports them; test run of commit {cov['commit'][:12]})"]
    else:  # said, so that the risk above is read as scored without coverage
        lines += ["", "line coverage unknown: no test run in the warehouse (skipped with "
                      "--skip-tool tests, or it recorded nothing); risk leaves coverage and "
                      "failing tests out. `codeintel-assets materialize` runs the suite"]
    left_out = info.get("vendored_left_out")
    if left_out and left_out["files"]:
        lines += ["", (f"vendored code left out of the rankings: {left_out['files']:,} Python "
                       f"files, {left_out['functions']:,} functions, "
                       f"{left_out['diagnostics']:,} diagnostics (core.file_state.is_vendored; "
                       "--include-vendored ranks them)")]
    return "\n".join(lines)
