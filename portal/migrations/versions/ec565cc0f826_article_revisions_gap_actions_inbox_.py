"""article revisions, gap actions, inbox closures

Revision ID: ec565cc0f826
Revises: 0bca4cb1c4bd
Create Date: 2026-12-01 20:10:50.540595

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ec565cc0f826"
down_revision = "0bca4cb1c4bd"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "article_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("renamed_from", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_user.id"],
            name=op.f("fk_article_revision_author_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_revision")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_article_revision_article_id")),
    )
    with op.batch_alter_table("article_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_revision_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_article_revision_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_article_revision_content_hash"), ["content_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_article_revision_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_article_revision_state"), ["state"], unique=False)

    op.create_table(
        "gap_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("normalized", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=True),
        sa.Column("query", sa.String(length=400), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_gap_action_staff_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_action")),
    )
    with op.batch_alter_table("gap_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gap_action_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gap_action_normalized"), ["normalized"], unique=False)

    with op.batch_alter_table("article_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("article_id", sa.String(length=200), nullable=True))

    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("close_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_vote_closed_by_id_staff_user"),
            "staff_user",
            ["closed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():

    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_vote_closed_by_id_staff_user"), type_="foreignkey")
        batch_op.drop_column("close_note")
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("article_request", schema=None) as batch_op:
        batch_op.drop_column("article_id")

    with op.batch_alter_table("gap_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gap_action_normalized"))
        batch_op.drop_index(batch_op.f("ix_gap_action_article_id"))

    op.drop_table("gap_action")
    with op.batch_alter_table("article_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_revision_state"))
        batch_op.drop_index(batch_op.f("ix_article_revision_created_at"))
        batch_op.drop_index(batch_op.f("ix_article_revision_content_hash"))
        batch_op.drop_index(batch_op.f("ix_article_revision_author_id"))
        batch_op.drop_index(batch_op.f("ix_article_revision_article_id"))

    op.drop_table("article_revision")
