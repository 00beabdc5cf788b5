"""Events, goods hotness, ranking configuration versions, banners.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:56:48.921244
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "banners",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("image", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banners")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("goods_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=72), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("surface", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("ranker_version", sa.Integer(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_actor_ts", "events", ["actor", "ts"], unique=False)
    op.create_index("ix_events_goods_ts", "events", ["goods_id", "ts"], unique=False)
    op.create_index("ix_events_ts", "events", ["ts"], unique=False)
    op.create_table(
        "ranking_configs",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column(
            "published_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_ranking_configs_published_by_users")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_ranking_configs")),
    )
    op.create_table(
        "goods_hotness",
        sa.Column("goods_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("log_score", sa.Float(), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goods_id"],
            ["goods.id"],
            name=op.f("fk_goods_hotness_goods_id_goods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("goods_id", name=op.f("pk_goods_hotness")),
    )
    op.create_index("ix_goods_hotness_score", "goods_hotness", ["log_score"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_goods_hotness_score", table_name="goods_hotness")
    op.drop_table("goods_hotness")
    op.drop_table("ranking_configs")
    op.drop_index("ix_events_ts", table_name="events")
    op.drop_index("ix_events_goods_ts", table_name="events")
    op.drop_index("ix_events_actor_ts", table_name="events")
    op.drop_table("events")
    op.drop_table("banners")
