"""Leases on scheduled jobs, held in the database so that processes on several machines never
run the same job at once (the harvest, embedding new papers).

A lease is a row (job name, holder, expiry). Taking it is one UPDATE that succeeds only if the
lease is free or expired (or already ours), or an INSERT of the first row; the database orders
concurrent attempts, so exactly one process wins. A holder that dies simply stops renewing:
another takes the job over once the lease expires, or at once when the holder was a process on
the same machine that is gone.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import String, Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from dailypapers.database import Base, UTCDateTime, utcnow


class JobLease(Base):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


LEASES: Table = JobLease.__table__  # type: ignore[assignment]


def this_process() -> str:
    """Who holds a lease or claims a digest: host and process id."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def take_lease(
    factory: sessionmaker[Session], name: str, seconds: float, holder: str | None = None
) -> bool:
    """Take (or renew) the lease on `name` for `seconds`; False if another holds it. A holder
    on this machine whose process is gone frees the lease at once (elsewhere, at expiry)."""
    holder = holder or this_process()
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    with factory() as session, session.begin():
        taken = session.execute(
            update(LEASES)
            .where(LEASES.c.name == name)
            .where(or_(LEASES.c.expires_at < now, LEASES.c.holder == holder))
            .values(holder=holder, expires_at=expires)
            .returning(LEASES.c.name)
        ).first()
        if taken is not None:
            return True
    try:
        with factory() as session, session.begin():
            session.execute(insert(LEASES).values(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:  # the row exists and is held by another process
        pass
    with factory() as session, session.begin():
        current = session.execute(select(LEASES.c.holder).where(LEASES.c.name == name)).scalar()
        if current is None or process_alive(current) is not False:
            return False
        taken = session.execute(
            update(LEASES)
            .where(LEASES.c.name == name, LEASES.c.holder == current)
            .values(holder=holder, expires_at=expires)
            .returning(LEASES.c.name)
        ).first()
        return taken is not None


def release_lease(factory: sessionmaker[Session], name: str, holder: str | None = None) -> None:
    holder = holder or this_process()
    with factory() as session, session.begin():
        session.execute(
            update(LEASES)
            .where(LEASES.c.name == name, LEASES.c.holder == holder)
            .values(expires_at=utcnow())
        )


def process_alive(holder: str | None) -> bool | None:
    """Whether the process named by `holder` (host:pid) runs: None when it is on another
    machine (unknown from here)."""
    if not holder or ":" not in holder:
        return False
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname()[:80] or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not reaped yet (a zombie) still answers kill(0)
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])
