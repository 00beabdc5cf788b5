"""An index for the newest listed goods (home and feeds read it on every request).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_goods_status_published", "goods", ["status", "published_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_goods_status_published", table_name="goods")
