"""`python -m civitas_sync`: the sync pages and worker alone, over the log at CIVITAS_LOG_URL."""

from civitas_kernel.service.serve import main

raise SystemExit(main("sync"))
