"""stored 绿视率 surveys and their sample points

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecoplan.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "greenview_survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("method_sha256", sa.String(length=64), nullable=False),
        sa.Column("classifier", sa.String(length=100), nullable=False),
        sa.Column("manifest_name", sa.String(length=255), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("images_sha256", sa.String(length=64), nullable=True),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("incomplete", sa.Integer(), nullable=False),
        sa.Column("outside", sa.Integer(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ecoplan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_greenview_survey")),
        sa.UniqueConstraint("year", "manifest_sha256", name=op.f("uq_greenview_survey_year")),
    )
    with op.batch_alter_table("greenview_survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_greenview_survey_year"), ["year"], unique=False)

    op.create_table(
        "greenview_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.String(length=120), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=20), nullable=True),
        sa.Column("district_name", sa.String(length=60), nullable=True),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("gvi", sa.Float(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column(
            "flags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["greenview_survey.id"],
            name=op.f("fk_greenview_point_survey_id_greenview_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_greenview_point")),
        sa.UniqueConstraint("survey_id", "point_id", name=op.f("uq_greenview_point_survey_id")),
    )
    with op.batch_alter_table("greenview_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_greenview_point_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_greenview_point_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("greenview_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_greenview_point_survey_id"))
        batch_op.drop_index(batch_op.f("ix_greenview_point_district_code"))

    op.drop_table("greenview_point")
    with op.batch_alter_table("greenview_survey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_greenview_survey_year"))

    op.drop_table("greenview_survey")
