"""utc's compiler: the IR, the pass framework, the importers and the driver.

Every command imports this package first, so the moment it was imported is when utc's
own start-up began: `--timing` reports the time from here to the command's start as
start-up (imports of numpy and utc's modules; the interpreter's own start is before).
"""

import time as _time

#: `time.perf_counter()` when utc's first module was imported.
STARTED = _time.perf_counter()
