"""The dialogue mechanisms this node takes part in (the rounds themselves are joint case logs)."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base


class Mechanism(Base):
    """One dialogue mechanism, e.g. the law enforcement and cybersecurity dialogue."""

    __tablename__ = "dialogue_mechanisms"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    en: Mapped[str] = mapped_column(String(200))
    zh: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
