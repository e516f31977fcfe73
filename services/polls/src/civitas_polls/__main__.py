"""`python -m civitas_polls`: the polls service alone (PostgreSQL at CIVITAS_LOG_URL, Kafka at CIVITAS_KAFKA_*)."""

from civitas_kernel.service.serve import main

raise SystemExit(main("polls"))
