"""Tables of the event log, the same on every SQL backend."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
    Column("raw", LargeBinary, nullable=False),  # the sealed envelope, exactly as hashed
)

# One row per site-stream: writers lock it, so positions never fork or skip.
heads = Table(
    "heads",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("signed", LargeBinary, nullable=False),  # a SignedCheckpoint
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("stream", String(64), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
)

# A command sent with an idempotency key, by whom, and the reply it got: a retry gets that reply again and a
# different request under the same key is refused. Keys are scoped to their caller; they are kept as digests
# and replies hold only what the log already shows publicly.
command_keys = Table(
    "command_keys",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("caller", String(320), primary_key=True),
    Column("key", String(64), primary_key=True),  # SHA-256 of the key, hex
    Column("request", LargeBinary, nullable=False),  # digest of what was asked
    Column("reply", LargeBinary, nullable=False),  # the reply, as JSON
)

site_keys = Table(
    "site_keys",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("public_key", LargeBinary, nullable=False),
)

# Where another origin's stream is held from when not from position 1: the origin's signed checkpoint at `seq`
# (civitas_kernel.anchors). The stream's head starts there, and nothing at or before it is held.
anchors = Table(
    "anchors",
    metadata,
    Column("site", String(253), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("signed", LargeBinary, nullable=False),  # the origin's SignedCheckpoint at seq
)
