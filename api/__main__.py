"""`python -m utc ...` runs the command line, like the `utc` script."""

import sys

from utc.compiler.driver.cli import main

sys.exit(main())
