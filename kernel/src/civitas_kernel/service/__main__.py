"""`python -m civitas_kernel.service [NAME]`: the service $CIVITAS_SERVICE names (what the container image runs)."""

from civitas_kernel.service.serve import main

raise SystemExit(main())
