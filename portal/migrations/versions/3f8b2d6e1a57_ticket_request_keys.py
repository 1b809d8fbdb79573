"""ticket request keys: one submission of the ticket form makes one ticket

Revision ID: 3f8b2d6e1a57
Revises: 5d1e7a9c2b40
Create Date: 2026-12-03 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3f8b2d6e1a57"
down_revision = "5d1e7a9c2b40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("request_key_hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_ticket_request_key_hash", ["request_key_hash"])


def downgrade():
    with op.batch_alter_table("ticket") as batch:
        batch.drop_constraint("uq_ticket_request_key_hash", type_="unique")
        batch.drop_column("request_key_hash")
