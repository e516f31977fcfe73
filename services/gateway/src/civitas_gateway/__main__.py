"""`python -m civitas_gateway`: the gateway alone, in front of the services at CIVITAS_REGISTRY_URL, CIVITAS_POLLS_URL
and CIVITAS_COUNTER_URL."""

from civitas_kernel.service.serve import main

raise SystemExit(main("gateway"))
