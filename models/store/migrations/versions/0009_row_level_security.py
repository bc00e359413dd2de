"""row-level security on PostgreSQL: a second wall between organisations (issue 19)

Every table that holds a consultation's data shows a role only the rows of the
organisations `messagerie_organisations(current_user)` returns:
- a member of the role `messagerie_service` (outbox, listener, page): every organisation;
- a role named after an account's login: that account's organisation (every one for a
  support account), narrowed to the organisations the application set for the transaction
  (`messagerie.organisations`) — setting it can never widen what the role sees;
- any other role (one shared by the application): the organisations the application set
  for the transaction, and none when it set nothing.
The tables' owner is not subject to the policies (PostgreSQL's rule, no FORCE): the owner
migrates and administers. Tables below the consultation are visible when their parent row
is, since a policy's subquery is itself filtered by the parent's policy. SQLite has no such
wall: there the application's scoping is the only one (README).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SERVICE_ROLE = "messagerie_service"

FUNCTION = f"""
CREATE FUNCTION messagerie_organisations(who name) RETURNS integer[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    asked integer[] := string_to_array(
        nullif(current_setting('messagerie.organisations', true), ''), ',')::integer[];
    own integer[];
BEGIN
    IF to_regrole('{SERVICE_ROLE}') IS NOT NULL
            AND pg_has_role(who, '{SERVICE_ROLE}', 'MEMBER') THEN
        RETURN ARRAY(SELECT id FROM organisation);
    END IF;
    SELECT CASE WHEN a.support THEN ARRAY(SELECT id FROM organisation)
                ELSE ARRAY[a.organisation_id] END
      INTO own FROM account a WHERE a.login = who;
    IF own IS NULL THEN
        RETURN coalesce(asked, '{{}}');
    END IF;
    IF asked IS NULL THEN
        RETURN own;
    END IF;
    RETURN ARRAY(SELECT unnest(own) INTERSECT SELECT unnest(asked));
END
$$
"""

VISIBLE = "(SELECT unnest(messagerie_organisations(current_user)))"

# Each table, and the condition on its row: the top ones by organisation, the others by
# their parent row being visible (its own policy applies inside the subquery).
POLICIES = {
    "organisation": f"id IN {VISIBLE}",
    "purchasing_entity": f"organisation_id IN {VISIBLE}",
    "account": f"organisation_id IN {VISIBLE}",
    "account_entity": "account_id IN (SELECT id FROM account)",
    "account_right": "account_id IN (SELECT id FROM account)",
    "consultation": "entity_id IN (SELECT id FROM purchasing_entity)",
    "lot": "consultation_id IN (SELECT id FROM consultation)",
    "register_entry": "consultation_id IN (SELECT id FROM consultation)",
    "register_entry_lot": "register_entry_id IN (SELECT id FROM register_entry)",
    "suite_candidate": "consultation_id IN (SELECT id FROM consultation)",
    "qa_item": "consultation_id IN (SELECT id FROM consultation)",
    "dce_version": "consultation_id IN (SELECT id FROM consultation)",
    "dce_piece": "version_id IN (SELECT id FROM dce_version)",
    "deadline_change": "consultation_id IN (SELECT id FROM consultation)",
    "message": "consultation_id IN (SELECT id FROM consultation)",
    "message_lot": "message_id IN (SELECT id FROM message)",
    "recipient": "message_id IN (SELECT id FROM message)",
    "attachment": "message_id IN (SELECT id FROM message)",
    "event": "recipient_id IN (SELECT id FROM recipient)",
    "reply": "recipient_id IN (SELECT id FROM recipient)",
    "reply_attachment": "reply_id IN (SELECT id FROM reply)",
    # A document belongs to a consultation, or (a company's reply file) to its reply.
    "document": (
        "consultation_id IN (SELECT id FROM consultation) OR (consultation_id IS NULL AND "
        "id IN (SELECT document_id FROM reply_attachment))"
    ),
    # A company is seen by the organisations it registered with or was written to.
    "company": (
        "id IN (SELECT company_id FROM register_entry) OR id IN (SELECT company_id FROM recipient)"
    ),
    # Rows naming no consultation (account changes) are the administrators' (owner, service).
    "audit_log": (
        "consultation_id IN (SELECT id FROM consultation) OR (consultation_id IS NULL AND "
        "message_id IN (SELECT id FROM message))"
    ),
}
# A new company (a register import) is nobody's yet: any role that may write may add it.
INSERTABLE = {"company", "audit_log"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, condition in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY organisation_wall ON {table} USING ({condition})")
        if table in INSERTABLE:
            op.execute(f"CREATE POLICY new_rows ON {table} FOR INSERT WITH CHECK (true)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        if table in INSERTABLE:
            op.execute(f"DROP POLICY new_rows ON {table}")
        op.execute(f"DROP POLICY organisation_wall ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION messagerie_organisations(name)")
