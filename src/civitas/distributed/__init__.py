"""Every service as its own OS process over PostgreSQL and Kafka: `civitas serve SERVICE`.

registry and polls own their streams (their own PostgreSQL log of record, an outbox relay to
Kafka, an internal HTTP API); counter consumes every stream into its own replica log and compiles
lists and counts there; gateway serves the voters' API over a facade that calls the others.
"""
