"""The asset jobs of a shape: everything (in one process, or one process per step) and the
ingestion job a push launches. Their names live in `launch.py` (the hook uses them too)."""

import dagster as dg

from codeintel_assets import launch
from codeintel_assets.defs.ingest import INGEST_SELECTION


def build_jobs(tags: dict[str, str]) -> list:
    """[codeintel_job, codeintel_multiprocess_job, codeintel_ingest_job], each tagged with
    `tags` (the shape, and the single shape's target root: the hook reads them)."""
    return [
        dg.define_asset_job(
            launch.CODEINTEL_JOB, selection=dg.AssetSelection.all(), tags=tags,
            description="Materialize every asset (the README's main command runs this "
            "selection)."),
        # One process per step: for big repositories on machines with more cores. Writers
        # stay safe: the gateway's file lock plus the `duckdb_writer` pool.
        dg.define_asset_job(
            launch.MULTIPROCESS_JOB, selection=dg.AssetSelection.all(), tags=tags,
            executor_def=dg.multiprocess_executor,
            description="Every asset, one process per step (see docs/design.md, Executors)."),
        dg.define_asset_job(
            launch.INGEST_JOB, selection=INGEST_SELECTION, tags=tags,
            description="Re-index the work tree: repo_scan and the file-level ingestion "
            "tables (incremental: only changed files are read). The git-HEAD sensor and the "
            "post-commit hook launch it; everything downstream follows by its automation "
            "condition."),
    ]
