from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime, string_enum


class VerificationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class RealNameVerification(Base):
    __tablename__ = "real_name_verifications"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    real_name: Mapped[str] = mapped_column(String(40))
    id_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The masked form is all any screen ever shows, so it is kept beside the ciphertext.
    id_number_masked: Mapped[str] = mapped_column(String(24))
    status: Mapped[VerificationStatus] = mapped_column(
        string_enum(VerificationStatus), default=VerificationStatus.PENDING, index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
