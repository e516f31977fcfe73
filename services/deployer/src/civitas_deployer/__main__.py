"""`python -m civitas_deployer`: the deployer alone (PostgreSQL at CIVITAS_LOG_URL, the counter at CIVITAS_COUNTER_URL,
Kafka at CIVITAS_KAFKA_*, the live repository at CIVITAS_LIVE_REPO or CIVITAS_HOME/live.git)."""

from civitas_kernel.service.serve import main

raise SystemExit(main("deployer"))
