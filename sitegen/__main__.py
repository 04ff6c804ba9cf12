"""``python -m sitegen`` — same as the ``sitegen`` console script."""

import sys

from sitegen.cli import main

sys.exit(main())
