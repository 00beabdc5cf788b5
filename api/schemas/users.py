from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Self

from pydantic import EmailStr, Field, StringConstraints, model_validator

from api.schemas.base import Input, Output
from catalog.users.models import Role, User, UserStatus

PHONE_PATTERN = r"^1[3-9]\d{9}$"
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Phone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]
Nickname = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]


class LoginIdentity(Input):
    email: EmailStr | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.email is None) == (self.phone is None):
            raise ValueError("give either an email or a phone number")
        return self

    def normalized_email(self) -> str | None:
        # Emails compare case-insensitively in practice; store them lowercased.
        return self.email.lower() if self.email else None


class RegisterIn(LoginIdentity):
    password: Password
    nickname: Nickname | None = None

    def default_nickname(self) -> str:
        if self.nickname:
            return self.nickname
        if self.phone:
            return f"用户{self.phone[-4:]}"
        return re.split(r"@", self.email or "user")[0][:40]


class LoginIn(LoginIdentity):
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class UserOut(Output):
    id: int
    email: str | None
    phone: str | None
    nickname: str
    role: Role
    status: UserStatus
    verified: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            phone=user.phone,
            nickname=user.nickname,
            role=user.role,
            status=user.status,
            verified=user.verified_at is not None,
            created_at=user.created_at,
        )


class TokenOut(Output):
    token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth 2 scheme name, not a secret)
    expires_at: datetime
    user: UserOut


class UserUpdateIn(Input):
    role: Role | None = None
    status: UserStatus | None = None


class VerificationIn(Input):
    real_name: Annotated[str, StringConstraints(min_length=2, max_length=40)]
    id_number: Annotated[str, StringConstraints(min_length=15, max_length=18)]


class VerificationOut(Output):
    id: int
    user_id: int
    real_name: str
    id_number: str = Field(validation_alias="id_number_masked")
    status: str
    reason: str | None
    submitted_at: datetime
    decided_at: datetime | None


class DecisionReasonIn(Input):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
