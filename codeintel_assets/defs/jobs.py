"""The asset jobs: everything (in one process, or one process per step) and the ingestion job a
push launches."""

import dagster as dg

from codeintel_assets.defs.ingest import INGEST_SELECTION
from codeintel_assets.trigger import INGEST_JOB

codeintel_job = dg.define_asset_job(
    "codeintel_job", selection=dg.AssetSelection.all(),
    description="Materialize every asset (the README's main command runs this selection).",
)

# The same selection with one process per step: for big repositories on machines with more
# cores. Writers stay safe: the gateway's file lock plus the `duckdb_writer` pool.
codeintel_multiprocess_job = dg.define_asset_job(
    "codeintel_multiprocess_job", selection=dg.AssetSelection.all(),
    executor_def=dg.multiprocess_executor,
    description="Every asset, one process per step (see README, Scaling out).",
)

ingest_job = dg.define_asset_job(
    INGEST_JOB, selection=INGEST_SELECTION,
    description="Re-index the work tree: repo_scan and the file-level ingestion tables "
    "(incremental: only changed files are read). The git-HEAD sensor and the post-commit hook "
    "launch it; everything downstream follows by its automation condition.",
)

JOBS = [codeintel_job, codeintel_multiprocess_job, ingest_job]
