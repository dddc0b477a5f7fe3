"""`not CMD...`: succeed only if CMD fails (lit tests of error messages)."""

import subprocess
import sys

sys.exit(0 if subprocess.run(sys.argv[1:]).returncode != 0 else 1)
