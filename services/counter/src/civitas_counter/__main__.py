"""`python -m civitas_counter`: the counter alone (its replica at CIVITAS_LOG_URL, Kafka at CIVITAS_KAFKA_*)."""

from civitas_kernel.service.serve import main

raise SystemExit(main("counter"))
