"""The gateway's own small SQL store: sign-in challenges, sessions and TOTP secrets.

None of this goes into the event log, which is public. Codes and tokens are kept only as
digests; TOTP secrets must be kept as they are (the server computes codes from them), which is
why this store must stay private to the site (CIVITAS_AUTH_STORE_URL; by default the SQLite file
CIVITAS_HOME/gateway.sqlite, which civitas_kernel.sql.create_engine makes 0600 with its -wal and -shm,
on PostgreSQL when several gateways serve the site side by side).
Every change that must not race (spending a try, using a challenge, a TOTP step) is one
conditional UPDATE whose row count says whether it won.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, Row

metadata = MetaData()

challenges = Table(
    "auth_challenges",
    metadata,
    Column("id_digest", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("code_digest", String(64), nullable=False),
    Column("expires_at", Float, nullable=False, index=True),  # seconds since the epoch
    Column("tries_left", Integer, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

sessions = Table(
    "auth_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("voter", String(320), nullable=False, index=True),
    Column("expires_at", Float, nullable=False, index=True),
    Column("created_at", Float, nullable=True),  # added later: stores made before have none for older sessions
    Column("agent", String(200), nullable=True),  # the browser or client that signed in, as it said (User-Agent)
)
ADDED_COLUMNS = {"auth_sessions": ("created_at FLOAT", "agent VARCHAR(200)")}

# Built once: a gateway asks this for many requests, and building the statement costs more than running it.
LIVE_SESSION = select(sessions.c.voter, sessions.c.expires_at).where(
    sessions.c.token_digest == bindparam("token_digest"), sessions.c.expires_at > bindparam("now")
)

totp_secrets = Table(
    "auth_totp",
    metadata,
    Column("voter", String(320), primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("confirmed", Boolean, nullable=False, default=False),
    Column("last_step", BigInteger, nullable=False, default=0),  # newest time step used: a code works once
)

# A reset of two-step sign-in asked by email proof: it takes effect only after a delay, which the voter (signed in
# with their authenticator) may cancel; so a thief of the mailbox alone cannot turn it off at once.
totp_resets = Table(
    "auth_totp_resets",
    metadata,
    Column("voter", String(320), primary_key=True),
    Column("effective_at", Float, nullable=False),
)

KEEP_EXPIRED_CHALLENGES = 24 * 3600  # seconds; long enough to say "expired" rather than "unknown"


class AuthStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Gateways starting together on one database would otherwise race to create the tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('civitas auth store schema'))"))
            metadata.create_all(conn)
            _add_missing_columns(conn)

    # challenges

    def add_challenge(self, id_digest: str, email: str, code_digest: str, expires_at: float, tries: int, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(challenges).where(challenges.c.expires_at < now - KEEP_EXPIRED_CHALLENGES))
            conn.execute(
                insert(challenges).values(
                    id_digest=id_digest, email=email, code_digest=code_digest, expires_at=expires_at, tries_left=tries, used=False
                )
            )

    def challenge(self, id_digest: str) -> Row | None:
        with self.engine.connect() as conn:
            return conn.execute(select(challenges).where(challenges.c.id_digest == id_digest)).first()

    def spend_try(self, id_digest: str) -> int:
        """One wrong try on the challenge; returns the tries left."""
        with self.engine.begin() as conn:
            conn.execute(
                update(challenges)
                .where(challenges.c.id_digest == id_digest, challenges.c.tries_left > 0)
                .values(tries_left=challenges.c.tries_left - 1)
            )
            return conn.execute(select(challenges.c.tries_left).where(challenges.c.id_digest == id_digest)).scalar_one()

    def open_session(self, challenge_digest: str, token_digest: str, voter: str, expires_at: float, now: float,
                     agent: str | None = None) -> bool:
        """Use the challenge up and open the session, both or neither; False if the challenge was no longer open."""
        with self.engine.begin() as conn:
            if not _use(conn, challenge_digest):
                return False
            conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
            conn.execute(insert(sessions).values(token_digest=token_digest, voter=voter, expires_at=expires_at,
                                                 created_at=now, agent=agent))
            return True

    def use_challenge(self, challenge_digest: str) -> bool:
        """Use the challenge up as proof of the mailbox (no session); False if it was no longer open."""
        with self.engine.begin() as conn:
            return _use(conn, challenge_digest)

    # sessions

    def session_voter(self, token_digest: str, now: float) -> tuple[str, float] | None:
        """(voter, expires_at) of a live session."""
        with self.engine.connect() as conn:
            row = conn.execute(LIVE_SESSION, {"token_digest": token_digest, "now": now}).first()
        return (row[0], row[1]) if row else None

    def close_session(self, token_digest: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_digest == token_digest))

    def sessions_of(self, voter: str, now: float) -> list[Row]:
        """The voter's live sessions, newest first."""
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(sessions.c.token_digest, sessions.c.created_at, sessions.c.expires_at, sessions.c.agent)
                .where(sessions.c.voter == voter, sessions.c.expires_at > now)
                .order_by(sessions.c.created_at.desc())))

    def close_sessions(self, voter: str, token_digests: list[str]) -> int:
        """Close those of the voter's sessions named; how many were open."""
        if not token_digests:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.voter == voter,
                                                       sessions.c.token_digest.in_(token_digests))).rowcount

    # two-step sign-in (TOTP)

    def totp(self, voter: str) -> Row | None:
        with self.engine.connect() as conn:
            return conn.execute(select(totp_secrets).where(totp_secrets.c.voter == voter)).first()

    def set_pending_totp(self, voter: str, secret: str) -> bool:
        """Store a new, unconfirmed secret (replacing an unconfirmed one); False if one is already on."""
        with self.engine.begin() as conn:
            conn.execute(delete(totp_secrets).where(totp_secrets.c.voter == voter, totp_secrets.c.confirmed.is_(False)))
            if conn.execute(select(totp_secrets.c.voter).where(totp_secrets.c.voter == voter)).first():
                return False
            conn.execute(insert(totp_secrets).values(voter=voter, secret=secret, confirmed=False, last_step=0))
            return True

    def remove_totp(self, voter: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(totp_secrets).where(totp_secrets.c.voter == voter))
            conn.execute(delete(totp_resets).where(totp_resets.c.voter == voter))

    def totp_reset(self, voter: str) -> float | None:
        """When an asked reset of the voter's two-step sign-in takes effect, if one was asked."""
        with self.engine.connect() as conn:
            return conn.execute(select(totp_resets.c.effective_at).where(totp_resets.c.voter == voter)).scalar()

    def set_totp_reset(self, voter: str, effective_at: float) -> float:
        """Ask a reset (a reset asked already keeps its time); when it takes effect."""
        with self.engine.begin() as conn:
            asked = conn.execute(select(totp_resets.c.effective_at).where(totp_resets.c.voter == voter)).scalar()
            if asked is not None:
                return asked
            conn.execute(insert(totp_resets).values(voter=voter, effective_at=effective_at))
            return effective_at

    def cancel_totp_reset(self, voter: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(totp_resets).where(totp_resets.c.voter == voter)).rowcount == 1

    def use_totp_step(self, voter: str, step: int, *, confirming: bool) -> bool:
        """Record `step` as used (and turn TOTP on when confirming); False if that step or a later one was used."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(totp_secrets)
                .where(
                    totp_secrets.c.voter == voter,
                    totp_secrets.c.confirmed.is_(not confirming),
                    totp_secrets.c.last_step < step,
                )
                .values(last_step=step, confirmed=True)
            )
            return result.rowcount == 1



def _use(conn, challenge_digest: str) -> bool:
    used = conn.execute(
        update(challenges)
        .where(challenges.c.id_digest == challenge_digest, challenges.c.used.is_(False), challenges.c.tries_left > 0)
        .values(used=True)
    )
    return used.rowcount == 1


def _add_missing_columns(conn) -> None:
    """Columns added since a store was made (create_all makes only missing tables)."""
    for table, columns in ADDED_COLUMNS.items():
        present = {column["name"] for column in inspect(conn).get_columns(table)}
        for column in columns:
            if column.split()[0] not in present:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column}"))
