"""searches judged once when their visit closes, and daily rollups of the gaps

Revision ID: a7c3e19f4d20
Revises: 3f8b2d6e1a57
Create Date: 2026-12-03 13:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c3e19f4d20"
down_revision = "3f8b2d6e1a57"
branch_labels = None
depends_on = None

_COUNTS = ("searches", "failures", "no_results", "partial", "not_opened", "voted_no", "ticket",
           "out_ticket", "out_found_later", "out_left")


def upgrade():
    with op.batch_alter_table("search_session") as batch:
        batch.add_column(sa.Column("judged_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_search_session_judged_at_last_seen_at",
                           ["judged_at", "last_seen_at"])
    op.create_table(
        "search_verdict",
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("normalized", sa.String(length=400), nullable=False),
        sa.Column("query", sa.String(length=400), nullable=False),
        sa.Column("failure", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["search_id"], ["search_event.id"], ondelete="CASCADE",
                                name=op.f("fk_search_verdict_search_id_search_event")),
        sa.ForeignKeyConstraint(["session_id"], ["search_session.id"], ondelete="CASCADE",
                                name=op.f("fk_search_verdict_session_id_search_session")),
        sa.PrimaryKeyConstraint("search_id", name=op.f("pk_search_verdict")),
    )
    op.create_index(op.f("ix_search_verdict_session_id"), "search_verdict", ["session_id"])
    op.create_index(op.f("ix_search_verdict_at"), "search_verdict", ["at"])
    op.create_index("ix_search_verdict_normalized_at", "search_verdict", ["normalized", "at"])
    op.create_index("ix_search_verdict_outcome_at", "search_verdict", ["outcome", "at"])
    op.create_table(
        "gap_day",
        sa.Column("normalized", sa.String(length=400), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS],
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("normalized", "day", name=op.f("pk_gap_day")),
    )
    op.create_table(
        "gap_day_query",
        sa.Column("normalized", sa.String(length=400), nullable=False),
        sa.Column("query", sa.String(length=400), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("normalized", "query", "day",
                                name=op.f("pk_gap_day_query")),
    )
    state = op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_state")),
    )
    op.bulk_insert(state, [{"name": "lock", "value": ""}])


def downgrade():
    op.drop_table("rollup_state")
    op.drop_table("gap_day_query")
    op.drop_table("gap_day")
    op.drop_index("ix_search_verdict_outcome_at", table_name="search_verdict")
    op.drop_index("ix_search_verdict_normalized_at", table_name="search_verdict")
    op.drop_index(op.f("ix_search_verdict_at"), table_name="search_verdict")
    op.drop_index(op.f("ix_search_verdict_session_id"), table_name="search_verdict")
    op.drop_table("search_verdict")
    with op.batch_alter_table("search_session") as batch:
        batch.drop_index("ix_search_session_judged_at_last_seen_at")
        batch.drop_column("judged_at")
