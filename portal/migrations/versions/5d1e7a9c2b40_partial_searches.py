"""searches answered only in part: no article had every informative word

Revision ID: 5d1e7a9c2b40
Revises: ec565cc0f826
Create Date: 2026-12-03 12:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1e7a9c2b40"
down_revision = "ec565cc0f826"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("search_event") as batch:
        batch.add_column(sa.Column("partial", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("search_event") as batch:
        batch.drop_column("partial")
