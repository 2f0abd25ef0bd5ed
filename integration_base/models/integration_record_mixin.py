# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import format_datetime

from .integration_message import engine

# A message in these states waits for a person: its records are told once in their chatter.
PARKED_STATES = ("exception", "dead")

# Per record of one model: how many messages concern it, and the ids of those that need a
# look, most urgent first (1: waits for a person, 2: retrying after a technical error,
# 3: received or queued but held back by such a message of its key, or past its SLA).
# Links are read through their (res_model, res_id) index, messages by id; whole history
# is never scanned, whatever the number of messages.
FIGURES_QUERY = """
    WITH concerned AS (
        SELECT DISTINCT res_id, message_id
          FROM integration_message_link
         WHERE res_model = %(model)s AND res_id = ANY(%(ids)s)
    ), rated AS (
        SELECT c.res_id, m.id,
               CASE
                   WHEN m.state IN ('exception', 'dead') THEN 1
                   WHEN m.state = 'failed' THEN 2
                   WHEN m.state IN ('received', 'queued') AND (
                        (f.sla_seconds > 0 AND m.received_at < %(now)s - f.sla_seconds * interval '1 second')
                        OR (m.ordering_key IS NOT NULL AND EXISTS (
                            SELECT 1 FROM integration_message e
                             WHERE e.backend_id = m.backend_id AND e.direction = m.direction
                               AND e.ordering_key = m.ordering_key AND e.id < m.id
                               -- spelled as the unsettled-key index's condition, so that it serves
                               AND e.state NOT IN ('done', 'cancelled')
                               AND e.state IN ('exception', 'dead', 'failed'))))
                   THEN 3
               END AS urgency
          FROM concerned c
          JOIN integration_message m ON m.id = c.message_id
          JOIN integration_flow f ON f.id = m.flow_id
    )
    SELECT res_id, count(*), array_agg(id ORDER BY urgency, id DESC) FILTER (WHERE urgency IS NOT NULL)
      FROM rated
  GROUP BY res_id
"""


class IntegrationRecordMixin(models.AbstractModel):
    """A business record that connectors exchange: it shows its integration state.

    A connector inherits this on the models its messages touch (orders,
    pickings, partners...) and adds a smart button and a warning to their
    form (see ``integration_base/views/res_partner_views.xml``). The figures
    come from the messages linked to the record (``integration.message.link``),
    in one grouped query for the whole recordset. They are computed with the
    engine's rights: people who follow the record but not the integration (a
    planner) see how many messages there are and why one waits, not the
    messages themselves.
    """

    _name = "integration.record.mixin"
    _description = "Integration: a record that messages concern"
    # The field by which external systems name records of this model (an order's reference):
    # messages that wait for a record of that name go on by themselves once it exists.
    _integration_reference_field = None

    integration_message_count = fields.Integer(
        string="Integration Messages",
        compute="_compute_integration_state",
        help="How many integration messages concern this record: sent about it, applied to it, or "
        "refused because of it.",
    )
    integration_attention_count = fields.Integer(
        string="Integration Messages To Look At",
        compute="_compute_integration_state",
        help="How many of them are not going through: waiting for someone (exception or dead), "
        "retrying after a technical error, or held back behind one of those or past their SLA.",
    )
    integration_attention_reason = fields.Text(
        string="Integration Warning",
        compute="_compute_integration_state",
        help="What the most urgent of those messages waits for, in words.",
    )

    def _compute_integration_state(self):
        figures = self._integration_figures()
        Message = self.env["integration.message"].sudo()
        urgent = Message.browse([ids[0] for _count, ids in figures.values() if ids])
        for record in self:
            count, attention = figures.get(record._origin.id, (0, []))
            record.integration_message_count = count
            record.integration_attention_count = len(attention)
            most_urgent = Message.browse(attention[:1]).with_prefetch(urgent.ids)
            record.integration_attention_reason = (
                self._integration_reason(most_urgent, len(attention)) if attention else False
            )

    def _integration_figures(self):
        """``{record id: (message count, ids of the messages to look at, most urgent first)}``."""
        ids = [record_id for record_id in self._origin.ids if record_id]
        if not ids:
            return {}
        self.env["integration.message.link"].flush_model(["res_model", "res_id", "message_id"])
        self.env["integration.message"].flush_model(
            ["state", "flow_id", "backend_id", "direction", "ordering_key", "received_at"]
        )
        self.env["integration.flow"].flush_model(["sla_seconds"])
        self.env.cr.execute(SQL(FIGURES_QUERY, model=self._name, ids=ids, now=fields.Datetime.now()))
        return {res_id: (count, attention or []) for res_id, count, attention in self.env.cr.fetchall()}

    @api.model
    def _integration_reason(self, message, count=1):
        """The warning of a record whose most urgent message is ``message`` (of ``count``)."""
        sentence = self._integration_sentence(message)
        if count == 1:
            return sentence
        return self.env._(
            "%(count)s integration messages about this record are not going through. The most urgent: "
            "%(sentence)s",
            count=count,
            sentence=sentence,
        )

    @api.model
    def _integration_sentence(self, message):
        """What happens to ``message``, in words for whoever works on the record it concerns."""
        words = {"contract": message.flow_id.name, "backend": message.backend_id.display_name}
        if message.direction == "outbound":
            subject = self.env._("The message %(contract)s to %(backend)s", **words)
        else:
            subject = self.env._("The message %(contract)s from %(backend)s", **words)
        reason = message.error_message or ""
        if message.state == "exception":
            return self.env._("%(subject)s waits for someone: %(reason)s", subject=subject, reason=reason)
        if message.state == "dead":
            return self.env._(
                "%(subject)s was given up after %(attempts)s attempts and waits for someone: %(reason)s",
                subject=subject,
                attempts=message.attempts,
                reason=reason,
            )
        if message.state == "failed":
            return self.env._(
                "%(subject)s failed and is tried again by itself at %(at)s: %(reason)s",
                subject=subject,
                at=format_datetime(self.env, message.next_retry_at),
                reason=reason,
            )
        blocker = message.blocked_by_id
        if blocker.state in (*PARKED_STATES, "failed"):
            states = dict(blocker._fields["state"]._description_selection(self.env))
            return self.env._(
                "%(subject)s waits behind an earlier message about the same record (%(state)s): %(reason)s",
                subject=subject,
                state=states[blocker.state].lower(),
                reason=blocker.error_message or "",
            )
        return self.env._(
            "%(subject)s has waited since %(since)s, longer than its contract allows.",
            subject=subject,
            since=format_datetime(self.env, message.received_at),
        )

    # ------------------------------------------------------------------
    # Declared event triggers, and messages waiting for these records
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        Event = self.env["integration.event"]
        for code, on_create, _on_write, _fields, _pre_domain, domain in Event._triggers_for(self._name):
            if on_create:
                Event._publish(code, records.filtered_domain(domain) if domain else records)
        records._integration_wake_waiting()
        return records

    def write(self, vals):
        """Raise the events whose trigger fields this write changes, as their declarations say."""
        watched = [
            (code, fields_, pre_domain, domain)
            for code, _on_create, on_write, fields_, pre_domain, domain in self.env[
                "integration.event"
            ]._triggers_for(self._name)
            if on_write and fields_ & vals.keys()
        ]
        before = {
            code: (records, {record.id: record._integration_values(fields_) for record in records})
            for code, fields_, pre_domain, _domain in watched
            for records in [self.filtered_domain(pre_domain) if pre_domain else self]
        }
        result = super().write(vals)
        for code, fields_, _pre_domain, domain in watched:
            records, values = before[code]
            changed = records.filtered(lambda r, f=fields_, v=values: r._integration_values(f) != v[r.id])
            if domain:
                changed = changed.filtered_domain(domain)
            self.env["integration.event"]._publish(code, changed)
        if self._integration_reference_field in vals:
            self._integration_wake_waiting()
        return result

    def _integration_values(self, field_names):
        """The values of ``field_names`` of this record, comparable before and after a write."""
        self.ensure_one()
        return tuple(
            self[name].ids if self._fields[name].relational else self[name] for name in sorted(field_names)
        )

    def _integration_wake_waiting(self):
        """Messages that waited for these records, by their reference, go on (see ``WaitingError``)."""
        field_name = self._integration_reference_field
        if not field_name or not self:
            return
        Message = self.env["integration.message"]
        by_company = defaultdict(set)
        for record in self:
            company = (record.company_id if "company_id" in record._fields else None) or self.env.company
            by_company[company].add(record[field_name])
        for company, references in by_company.items():
            Message._wake(self._name, references, company)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_integration_messages(self):
        """The integration messages about this record."""
        self.ensure_one()
        return self._integration_messages_action(
            [("link_ids", "any", [("res_model", "=", self._name), ("res_id", "=", self.id)])],
            self.env._("Integration: %s", self.display_name),
        )

    def action_open_integration_attention(self):
        """The integration messages about this record that are not going through."""
        self.ensure_one()
        _count, attention = self._integration_figures().get(self.id, (0, []))
        return self._integration_messages_action(
            [("id", "in", attention)], self.env._("Integration to look at: %s", self.display_name)
        )

    def _integration_messages_action(self, domain, name):
        # Read as the user: who may not read messages is told so here, not by an empty list.
        self.env["integration.message"].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("integration_base.integration_message_action")
        return {**action, "name": name, "domain": domain, "context": {"create": False}}

    # ------------------------------------------------------------------
    # Chatter: one note when a message waits for a person
    # ------------------------------------------------------------------

    @api.model
    def _note_integration_failures(self, messages):
        """Tell the records of each message parked for a person, in their chatter, once.

        The engine calls this where it parks messages (in exception or dead).
        A message that is retried and parked again is not told twice
        (``failure_noted`` remembers it); technical retries (``failed``) tell
        nothing, since they may still succeed by themselves.
        """
        for message in messages.sudo():
            if message.state not in PARKED_STATES or message.failure_noted:
                continue
            body = self.env._("Integration: %s", self._integration_sentence(message))
            author = message.backend_id.technical_user_id.partner_id
            for record in self._integration_records_of(message):
                record.message_post(
                    body=body, message_type="comment", subtype_xmlid="mail.mt_note", author_id=author.id
                )
            engine(message).write({"failure_noted": True})

    @api.model
    def _integration_records_of(self, message):
        """The records linked to ``message`` that show their integration state and have a chatter."""
        ids_by_model = defaultdict(list)
        for link in message.link_ids:
            ids_by_model[link.res_model].append(link.res_id)
        for model, ids in ids_by_model.items():
            if model in self.pool and all(
                issubclass(self.pool[model], self.pool[mixin])
                for mixin in ("integration.record.mixin", "mail.thread")
            ):
                yield from self.env[model].sudo().browse(ids).exists()
