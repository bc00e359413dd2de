"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27

The audit log is made append-only by triggers (LEGAL.md rule 11).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("siret", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("siret", name=op.f("uq_company_siret")),
    )
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("name", name=op.f("uq_organisation_name")),
    )
    op.create_table(
        "store_meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_store_meta")),
    )
    op.create_table(
        "purchasing_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sender_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("postal_address", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_purchasing_entity_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchasing_entity")),
    )
    with op.batch_alter_table("purchasing_entity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchasing_entity_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column(
            "procedure",
            sa.Enum(
                "open_tender",
                "restricted_tender",
                "adapted",
                "negotiated",
                "competitive_dialogue",
                name="procedure",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "drafting",
                "awaiting_validation",
                "open",
                "opening_analysis",
                "decision",
                name="consultationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("bid_deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("access_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["purchasing_entity.id"],
            name=op.f("fk_consultation_entity_id_purchasing_entity"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["consultation.id"], name=op.f("fk_consultation_parent_id_consultation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation")),
        sa.UniqueConstraint("reference", name=op.f("uq_consultation_reference")),
    )
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_deadline_order", ["bid_deadline", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consultation_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consultation_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_consultation_status_deadline", ["status", "bid_deadline"], unique=False
        )

    op.create_table(
        "dce_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_dce_version_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dce_version")),
        sa.UniqueConstraint(
            "consultation_id", "number", name=op.f("uq_dce_version_consultation_id")
        ),
    )
    with op.batch_alter_table("dce_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dce_version_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "deadline_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("previous_deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("new_deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_deadline_change_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_change")),
    )
    with op.batch_alter_table("deadline_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deadline_change_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "origin",
            sa.Enum(
                "dce",
                "letter",
                "attachment",
                "reply",
                name="documentorigin",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "antivirus",
            sa.Enum(
                "clean",
                "infected",
                "not_scanned",
                name="antivirusverdict",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("antivirus_detail", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_document_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_sha256"), ["sha256"], unique=False)

    op.create_table(
        "lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_lot_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot")),
        sa.UniqueConstraint("consultation_id", "number", name=op.f("uq_lot_consultation_id")),
    )
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lot_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "free",
                "invitation",
                "modification",
                "answer",
                "complement_request",
                "award",
                "notification",
                "rejection",
                "cancellation",
                name="messagetype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "send_mode",
            sa.Enum("with_ar", "simple", name="sendmode", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reply_allowed", sa.Boolean(), nullable=False),
        sa.Column("reply_deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("all_lots", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("draft", "queued", name="messagestate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_message_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_consultation_created", ["consultation_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_type"), ["type"], unique=False)

    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "withdrawal",
                "question",
                "deposit",
                name="registerkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("question_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_register_entry_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_register_entry_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entry")),
    )
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_register_entry_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            "ix_register_entry_consultation_kind_at",
            ["consultation_id", "kind", "at"],
            unique=False,
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.Integer(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_audit_log_consultation_id_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_audit_log_message_id_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_message_id"), ["message_id"], unique=False)

    op.create_table(
        "dce_piece",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_dce_piece_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["dce_piece.id"], name=op.f("fk_dce_piece_parent_id_dce_piece")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dce_version.id"], name=op.f("fk_dce_piece_version_id_dce_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dce_piece")),
    )
    with op.batch_alter_table("dce_piece", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dce_piece_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dce_piece_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dce_piece_version_id"), ["version_id"], unique=False)

    op.create_table(
        "message_lot",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_message_lot_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_lot_message_id_message")
        ),
        sa.PrimaryKeyConstraint("message_id", "lot_id", name=op.f("pk_message_lot")),
    )
    with op.batch_alter_table("message_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_lot_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "message_id_header", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "delivery_state",
            sa.Enum(
                "held",
                "queued",
                "claimed",
                "accepted",
                "refused",
                name="deliverystate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "delivered",
                "not_delivered",
                "read",
                "reply_unread",
                "reply_read",
                name="recipientstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("not_delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("replied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resent_from_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_recipient_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_recipient_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["resent_from_id"], ["recipient.id"], name=op.f("fk_recipient_resent_from_id_recipient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient")),
        sa.UniqueConstraint("message_id", "email", name=op.f("uq_recipient_message_id")),
        sa.UniqueConstraint("message_id_header", name=op.f("uq_recipient_message_id_header")),
        sa.UniqueConstraint("token", name=op.f("uq_recipient_token")),
    )
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipient_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_recipient_message_status", ["message_id", "status"], unique=False)
        batch_op.create_index(
            "ix_recipient_outbox", ["delivery_state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recipient_resent_from_id"), ["resent_from_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recipient_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_recipient_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "register_entry_lot",
        sa.Column("register_entry_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lot.id"], name=op.f("fk_register_entry_lot_lot_id_lot")
        ),
        sa.ForeignKeyConstraint(
            ["register_entry_id"],
            ["register_entry.id"],
            name=op.f("fk_register_entry_lot_register_entry_id_register_entry"),
        ),
        sa.PrimaryKeyConstraint("register_entry_id", "lot_id", name=op.f("pk_register_entry_lot")),
    )
    with op.batch_alter_table("register_entry_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_entry_lot_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_attachment_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_attachment_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["recipient.id"], name=op.f("fk_attachment_recipient_id_recipient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachment_message_id"), ["message_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachment_recipient_id"), ["recipient_id"], unique=False
        )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sent",
                "delivered",
                "not_delivered",
                "read",
                "replied",
                "retry",
                "opened_again",
                name="eventkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["recipient.id"], name=op.f("fk_event_recipient_id_recipient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_recipient_at", ["recipient_id", "at"], unique=False)

    op.create_table(
        "reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("web", "email", name="replychannel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "disposition",
            sa.Enum(
                "on_time",
                "late",
                "not_allowed",
                name="replydisposition",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["recipient.id"], name=op.f("fk_reply_recipient_id_recipient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply")),
    )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reply_recipient_received", ["recipient_id", "received_at"], unique=False
        )

    op.create_table(
        "reply_attachment",
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_reply_attachment_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"], ["reply.id"], name=op.f("fk_reply_attachment_reply_id_reply")
        ),
        sa.PrimaryKeyConstraint("reply_id", "document_id", name=op.f("pk_reply_attachment")),
    )

    _make_audit_log_append_only()


def downgrade() -> None:
    _drop_audit_log_guard()
    op.drop_table("reply_attachment")
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_index("ix_reply_recipient_received")

    op.drop_table("reply")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_recipient_at")

    op.drop_table("event")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_message_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_document_id"))

    op.drop_table("attachment")
    with op.batch_alter_table("register_entry_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_entry_lot_lot_id"))

    op.drop_table("register_entry_lot")
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipient_updated_at"))
        batch_op.drop_index(batch_op.f("ix_recipient_status"))
        batch_op.drop_index(batch_op.f("ix_recipient_resent_from_id"))
        batch_op.drop_index("ix_recipient_outbox")
        batch_op.drop_index("ix_recipient_message_status")
        batch_op.drop_index(batch_op.f("ix_recipient_company_id"))

    op.drop_table("recipient")
    with op.batch_alter_table("message_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_lot_lot_id"))

    op.drop_table("message_lot")
    with op.batch_alter_table("dce_piece", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dce_piece_version_id"))
        batch_op.drop_index(batch_op.f("ix_dce_piece_parent_id"))
        batch_op.drop_index(batch_op.f("ix_dce_piece_document_id"))

    op.drop_table("dce_piece")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_message_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_consultation_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_register_entry_consultation_kind_at")
        batch_op.drop_index(batch_op.f("ix_register_entry_company_id"))

    op.drop_table("register_entry")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_type"))
        batch_op.drop_index(batch_op.f("ix_message_state"))
        batch_op.drop_index("ix_message_consultation_created")

    op.drop_table("message")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_consultation_id"))

    op.drop_table("lot")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_sha256"))
        batch_op.drop_index(batch_op.f("ix_document_consultation_id"))

    op.drop_table("document")
    with op.batch_alter_table("deadline_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_change_consultation_id"))

    op.drop_table("deadline_change")
    with op.batch_alter_table("dce_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dce_version_consultation_id"))

    op.drop_table("dce_version")
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_status_deadline")
        batch_op.drop_index(batch_op.f("ix_consultation_parent_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_entity_id"))
        batch_op.drop_index("ix_consultation_deadline_order")

    op.drop_table("consultation")
    with op.batch_alter_table("purchasing_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchasing_entity_organisation_id"))

    op.drop_table("purchasing_entity")
    op.drop_table("store_meta")
    op.drop_table("organisation")
    op.drop_table("company")


_APPEND_ONLY = "audit_log is append-only"


def _make_audit_log_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def _drop_audit_log_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
