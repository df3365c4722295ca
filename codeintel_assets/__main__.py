import sys

from codeintel_assets.cli import main

sys.exit(main())
