"""`python -m civitas_drafts`: the drafts service alone (PostgreSQL at CIVITAS_LOG_URL, Kafka at CIVITAS_KAFKA_*)."""

from civitas_kernel.service.serve import main

raise SystemExit(main("drafts"))
