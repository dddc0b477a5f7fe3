"""`python -m utc ...` runs the command line, like the `utc` script."""

import sys

from utc.compiler.console import main

sys.exit(main())
