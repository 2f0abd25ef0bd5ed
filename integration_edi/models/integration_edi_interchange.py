# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..lib.acknowledgements import acknowledged

DOCUMENTS = [
    ("order", "Purchase Order (850 / ORDERS)"),
    ("order_response", "Order Response (855 / ORDRSP)"),
    ("despatch_advice", "Despatch Advice (856 / DESADV)"),
    ("invoice", "Invoice (810 / INVOIC)"),
    ("acknowledgement", "Acknowledgement (997 / 999 / CONTRL)"),
    ("interchange", "Interchange"),
]


def _spellings(number):
    """A control number as partners echo it: as written, without its leading zeros, or padded to nine."""
    text = str(number).strip()
    return sorted({text, text.lstrip("0") or "0", text.zfill(9)})


def _unpadded(number):
    return str(number).strip().lstrip("0") or "0"


class IntegrationEdiInterchange(models.Model):
    """The register of interchanges exchanged with a partner: their control numbers and acknowledgements.

    One line per interchange sent or received. A sent one waits for the
    partner's acknowledgement, which is matched to it by its control numbers
    (X12: the group's GS06, EDIFACT: the interchange's UNB 0020); one that does
    not come within the partner's SLA, or that rejects, becomes an activity on
    the document it concerns. A received one records what we answered. The
    certification checklist of a partner in test mode reads this register.
    """

    _name = "integration.edi.interchange"
    _description = "EDI Interchange"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "integration.backend",
        string="Partner Profile",
        required=True,
        index=True,
        ondelete="cascade",
        help="The trading partner's EDI backend.",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, help="The partner's company.")
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id", store=True, index=True, help="The plant of the partner's profile."
    )
    direction = fields.Selection(
        [("sent", "Sent"), ("received", "Received")],
        required=True,
        help="Sent to the partner or received from it.",
    )
    document = fields.Selection(DOCUMENTS, required=True, help="What the interchange carries.")
    control_number = fields.Char(
        string="Interchange Number", required=True, index=True, help="ISA13 / UNB 0020 of the interchange."
    )
    group_number = fields.Char(index=True, help="X12 GS06 of its functional group.")
    transaction_numbers = fields.Char(help="ST02 / UNH 0062 of its documents.")
    test = fields.Boolean(help="Sent or received with the test indicator (ISA15 T, UNB test flag).")
    res_model = fields.Char(string="Document Model", help="The kind of Odoo document it is about.")
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", help="The Odoo document."
    )
    document_name = fields.Char(help="The Odoo document's name when the interchange was written.")
    state = fields.Selection(
        [
            ("awaiting", "Awaiting Acknowledgement"),
            ("accepted", "Accepted"),
            ("rejected", "Rejected"),
            ("overdue", "Acknowledgement Overdue"),
            ("not_expected", "No Acknowledgement Expected"),
        ],
        required=True,
        default="awaiting",
        index=True,
        help="Sent: whether the partner acknowledged it (overdue once its due date passes). Received: "
        "whether we accepted or rejected it in our acknowledgement.",
    )
    ack_due = fields.Datetime(string="Acknowledgement Due", help="When the partner's acknowledgement is due.")
    acknowledged_at = fields.Datetime(help="When the acknowledgement came (sent) or was written (received).")
    ack_control_number = fields.Char(
        string="Acknowledgement Number",
        help="The interchange number of the acknowledgement that answered it.",
    )
    problems = fields.Text(help="What was wrong with it, as the acknowledgement or our check said.")

    _sent_unique = models.Constraint(
        "UNIQUE(backend_id, direction, control_number)",
        "An interchange number is used once per partner and direction.",
    )

    @api.depends("document", "control_number", "document_name")
    def _compute_display_name(self):
        labels = dict(DOCUMENTS)
        for line in self:
            what = line.document_name or labels.get(line.document, line.document)
            line.display_name = f"{what} #{line.control_number}"

    @api.model
    def _record_sent(self, backend, envelope, document, record=None):
        """Register an interchange as it is written for ``backend`` (its ``#envelope``), about ``record``."""
        expected = document != "acknowledgement"
        return self.sudo().create(
            {
                "backend_id": backend.id,
                "direction": "sent",
                "document": document,
                "control_number": str(envelope["interchange"]),
                "group_number": str(envelope.get("group") or ""),
                "transaction_numbers": ",".join(str(number) for number in envelope.get("transactions") or []),
                "test": bool(envelope.get("test")),
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
                "document_name": record.display_name if record else False,
                "state": "awaiting" if expected else "not_expected",
                "ack_due": backend._edi_ack_due() if expected else False,
            }
        )

    @api.model
    def _record_received(self, backend, interchange, accepted, acknowledgement_number, problems):
        """Register a received interchange and what we answered it."""
        documents = {
            transaction["document"]["document"]
            for group in interchange["groups"]
            for transaction in group["transactions"]
            if transaction.get("document")
        }
        values = {
            "backend_id": backend.id,
            "direction": "received",
            "document": documents.pop() if len(documents) == 1 else "interchange",
            "control_number": interchange["control_number"],
            "group_number": ",".join(
                group["control_number"] for group in interchange["groups"] if group["explicit"]
            ),
            "transaction_numbers": ",".join(
                transaction["control_number"]
                for group in interchange["groups"]
                for transaction in group["transactions"]
            ),
            "test": interchange["test"],
            "state": "accepted" if accepted else "rejected",
            "acknowledged_at": fields.Datetime.now(),
            "ack_control_number": acknowledgement_number,
            "problems": "\n".join(problems) or False,
        }
        known = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("direction", "=", "received"),
                ("control_number", "=", interchange["control_number"]),
            ]
        )
        if known:
            known.write(values)
            return known
        return self.sudo().create(values)

    @api.model
    def _match_acknowledgement(self, backend, document, ack_control_number):
        """Settle the sent interchanges an inbound acknowledgement ``document`` answers; returns them.

        A rejection, or a rejected transaction inside an accepted group, is an
        activity on the document it concerns, in words.
        """
        field_of_level = {"interchange": "control_number", "group": "group_number"}
        settled = self.browse()
        verdicts = {}
        for level, number, status, code in acknowledged(document):
            if level not in field_of_level:
                continue
            lines = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "sent"),
                    (field_of_level[level], "in", _spellings(number)),
                ]
            )
            for line in lines:
                verdicts.setdefault(line, []).append((status, code))
        rejected_transactions = {
            _unpadded(number): code
            for level, number, status, code in acknowledged(document)
            if level == "transaction" and status == "rejected"
        }
        for line, answers in verdicts.items():
            numbers = {_unpadded(number) for number in (line.transaction_numbers or "").split(",")}
            refusals = [(status, code) for status, code in answers if status == "rejected"]
            refusals += [
                ("rejected", code) for number, code in rejected_transactions.items() if number in numbers
            ]
            codes = ", ".join(sorted({str(code) for _status, code in refusals if code})) or "-"
            line.write(
                {
                    "state": "rejected" if refusals else "accepted",
                    "acknowledged_at": fields.Datetime.now(),
                    "ack_control_number": ack_control_number,
                    "problems": self.env._("The partner rejected it (code %s).", codes)
                    if refusals
                    else False,
                }
            )
            if refusals:
                line._tell_people(
                    self.env._(
                        "%(partner)s rejected %(what)s in its acknowledgement %(ack)s: look at the partner's "
                        "reason (code %(code)s), correct the document and send it again.",
                        partner=backend.partner_id.display_name,
                        what=line.display_name,
                        ack=ack_control_number,
                        code=codes,
                    )
                )
            settled |= line
        return settled

    @api.model
    def _cron_overdue_acknowledgements(self):
        """Mark what the partners did not acknowledge in time, and tell the people of each document."""
        overdue = self.sudo().search([("state", "=", "awaiting"), ("ack_due", "<", fields.Datetime.now())])
        for line in overdue:
            line.state = "overdue"
            line._tell_people(
                self.env._(
                    "%(partner)s has not acknowledged %(what)s, due by %(due)s: ask the partner whether it "
                    "received it, and send it again if not.",
                    partner=line.backend_id.partner_id.display_name,
                    what=line.display_name,
                    due=fields.Datetime.to_string(line.ack_due),
                )
            )
        return overdue

    def _tell_people(self, note):
        """One activity on the document (or on the partner profile) for the profile's owner."""
        self.ensure_one()
        target = self.env[self.res_model].browse(self.res_id).exists() if self.res_model else None
        target = target if target and hasattr(target, "activity_schedule") else self.backend_id
        target.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("EDI: %s", self.display_name),
            note=note,
            user_id=self.backend_id.owner_id.id,
        )

    def action_open_document(self):
        """The Odoo document the interchange is about; the partner's profile for one about none."""
        self.ensure_one()
        model, res_id = (
            (self.res_model, self.res_id) if self.res_model else (self.backend_id._name, self.backend_id.id)
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "res_id": res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
