"""`python later.py HOURS MODULE`: `python -m MODULE` with this process's clock HOURS ahead (time.time_ns, the clock
a service and its log read), as days passing would, so a voting window closes without waiting days for it."""

import runpy
import sys
import time

hours, module = float(sys.argv[1]), sys.argv[2]
real, ahead = time.time_ns, int(hours * 3600 * 1_000_000_000)
time.time_ns = lambda: real() + ahead
sys.argv = [module]
runpy.run_module(module, run_name="__main__", alter_sys=True)
