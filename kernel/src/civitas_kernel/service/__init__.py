"""What every service shares when it runs on its own: settings, the site key, calling another service, problem
answers, the owner's log of record with its group writer and outbox, and `serve`.

Importing this package imports FastAPI (the `service` extra of civitas-kernel); the rest of the kernel does not.
"""
