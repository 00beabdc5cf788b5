"""What each staff role may do. Routes ask for a permission, never for a role name."""

from __future__ import annotations

import enum

from catalog.errors import PermissionDenied
from catalog.users.models import Role, User


class Permission(enum.StrEnum):
    REVIEW_GOODS = "review_goods"
    SEE_ANY_GOODS = "see_any_goods"
    DECIDE_VERIFICATION = "decide_verification"
    MANAGE_USERS = "manage_users"
    MANAGE_CATEGORIES = "manage_categories"
    WATCH_SEARCH = "watch_search"
    MANAGE_SEARCH = "manage_search"
    MANAGE_RANKING = "manage_ranking"
    SEE_ORDERS = "see_orders"
    RESOLVE_DISPUTES = "resolve_disputes"
    PAY_OUT = "pay_out"
    SET_COMMISSION = "set_commission"


_REVIEWER = {Permission.REVIEW_GOODS, Permission.SEE_ANY_GOODS}
_OPERATOR = _REVIEWER | {
    Permission.DECIDE_VERIFICATION,
    Permission.WATCH_SEARCH,
    Permission.SEE_ORDERS,
    Permission.RESOLVE_DISPUTES,
    Permission.PAY_OUT,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.USER: frozenset(),
    Role.REVIEWER: frozenset(_REVIEWER),
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.ADMIN: frozenset(Permission),
}


def has_permission(user: User, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[user.role]


def require_permission(user: User, permission: Permission) -> None:
    if not has_permission(user, permission):
        raise PermissionDenied(
            "your role may not do this", code="permission_denied", permission=permission.value
        )


def is_staff(user: User) -> bool:
    return user.role is not Role.USER
