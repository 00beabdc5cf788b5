"""Submitting and deciding real-name verification."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.clock import utcnow
from catalog.errors import Conflict, InvalidInput, NotFound
from catalog.identity.field_crypto import encrypt_field
from catalog.identity.id_numbers import id_number_problem, mask_id_number, normalize_id_number
from catalog.identity.models import RealNameVerification, VerificationStatus
from catalog.pagination import fetch_page
from catalog.users.models import User


def latest_verification(session: Session, *, user_id: int) -> RealNameVerification | None:
    return session.scalar(
        select(RealNameVerification)
        .where(RealNameVerification.user_id == user_id)
        .order_by(RealNameVerification.id.desc())
        .limit(1)
    )


def submit_verification(
    session: Session, *, user: User, real_name: str, id_number: str
) -> RealNameVerification:
    """File a verification; one may be pending at a time, and a verified user is done."""
    if user.verified_at is not None:
        raise Conflict("you are already verified", code="already_verified")
    latest = latest_verification(session, user_id=user.id)
    if latest is not None and latest.status is VerificationStatus.PENDING:
        raise Conflict("a verification is already waiting for review", code="verification_pending")
    number = normalize_id_number(id_number)
    problem = id_number_problem(number)
    if problem is not None:
        raise InvalidInput(problem, code="invalid_id_number", field="id_number")
    verification = RealNameVerification(
        user_id=user.id,
        real_name=real_name.strip(),
        id_number_encrypted=encrypt_field(number),
        id_number_masked=mask_id_number(number),
    )
    session.add(verification)
    session.flush()
    return verification


def list_verifications(
    session: Session, *, status: VerificationStatus | None, page: int, page_size: int
) -> tuple[list[RealNameVerification], int]:
    stmt = select(RealNameVerification)
    if status is not None:
        stmt = stmt.where(RealNameVerification.status == status)
    return fetch_page(
        session, stmt.order_by(RealNameVerification.id), page=page, page_size=page_size
    )


def decide_verification(
    session: Session, *, operator: User, verification_id: int, approve: bool, reason: str | None
) -> RealNameVerification:
    """Approve (the user becomes verified) or reject with a reason the user sees."""
    verification = session.get(RealNameVerification, verification_id, with_for_update=True)
    if verification is None:
        raise NotFound("no such verification", code="verification_not_found")
    if verification.status is not VerificationStatus.PENDING:
        raise Conflict("this verification was already decided", code="verification_decided")
    if not approve and not (reason and reason.strip()):
        raise InvalidInput("a rejection needs a reason", code="reason_required", field="reason")
    now = utcnow()
    verification.status = VerificationStatus.APPROVED if approve else VerificationStatus.REJECTED
    verification.reason = reason
    verification.decided_by = operator.id
    verification.decided_at = now
    if approve:
        user = session.get(User, verification.user_id)
        if user is not None:
            user.verified_at = now
    session.flush()
    return verification
