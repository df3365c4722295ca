"""pytest plugins of ours that load into the TARGET's interpreter (this folder goes on its
PYTHONPATH, each module is loaded with `-p <module>`): standard library and pytest only, no
import of codeintel_assets."""
