"""`python -m civitas_registry`: the registry alone (PostgreSQL at CIVITAS_LOG_URL, Kafka at CIVITAS_KAFKA_*)."""

from civitas_kernel.service.serve import main

raise SystemExit(main("registry"))
