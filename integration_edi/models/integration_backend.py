# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

CONTROL_NUMBER_KINDS = ("interchange", "group", "transaction")
# The largest control number each kind may take (ISA13 and GS06 are nine digits, ST02 and
# UNH 0062 are written with at least four).
CONTROL_NUMBER_PADDING = {"interchange": 9, "group": 0, "transaction": 4}


class IntegrationBackend(models.Model):
    """An EDI backend is one trading partner's profile: who we both are in the envelopes, how to write.

    The documents exchanged in each direction are the backend's contracts,
    their transports the contracts' folders, SFTP servers or webhook. The
    standard is the backend's contract family (X12 or EDIFACT).
    """

    _inherit = "integration.backend"

    contract_family = fields.Selection(
        selection_add=[("x12", "ASC X12"), ("edifact", "UN/EDIFACT")],
        ondelete={"x12": "set default", "edifact": "set default"},
    )
    edi_version = fields.Char(
        string="Standard Version",
        tracking=True,
        help="X12: the interchange version (ISA12), for example 00401. EDIFACT: the message directory, "
        "for example D:96A:UN.",
    )
    edi_group_version = fields.Char(
        string="Group Version",
        tracking=True,
        help="X12 only: the version of the functional groups (GS08), for example 004010 or 004010VICS.",
    )
    edi_association = fields.Char(
        string="Association Code",
        tracking=True,
        help="EDIFACT only: the subset the partner follows, written in UNH (for example EAN008 for EANCOM).",
    )
    edi_our_qualifier = fields.Char(
        string="Our Qualifier",
        tracking=True,
        help="How our identifier is to be read: X12 ISA05 (ZZ mutually defined, 01 DUNS, 14 UCC/EAN), "
        "EDIFACT UNB S002 code (14 for a GLN).",
    )
    edi_our_id = fields.Char(
        string="Our Identifier",
        tracking=True,
        help="Our identifier in the partner's interchanges: X12 ISA06 (sender when we send, ISA08 "
        "receiver when we receive), EDIFACT UNB S002 / S003. Inbound interchanges addressed to anyone "
        "else are refused.",
    )
    edi_partner_qualifier = fields.Char(
        string="Partner Qualifier", tracking=True, help="The partner's ISA07 / UNB S003 qualifier."
    )
    edi_partner_id = fields.Char(
        string="Partner Identifier",
        tracking=True,
        help="The partner's identifier (X12 ISA08 / ISA06, EDIFACT UNB S003 / S002). Interchanges from "
        "another sender are refused.",
    )
    edi_element_separator = fields.Char(
        string="Element Separator",
        size=1,
        tracking=True,
        help="Outbound only: inbound interchanges declare theirs (ISA, UNA). Empty: the standard's (* or +).",
    )
    edi_component_separator = fields.Char(
        string="Component Separator",
        size=1,
        tracking=True,
        help="Outbound only. Empty: > (X12) or : (EDIFACT).",
    )
    edi_segment_terminator = fields.Char(
        string="Segment Terminator",
        size=1,
        tracking=True,
        help="Outbound only. Empty: ~ (X12) or ' (EDIFACT).",
    )
    edi_decimal_mark = fields.Selection(
        [(".", "Point"), (",", "Comma")],
        string="Decimal Mark",
        default=".",
        tracking=True,
        help="EDIFACT only, outbound: the decimal mark numbers are written with (declared in the UNA).",
    )
    edi_charset = fields.Selection(
        [
            ("UNOA", "UNOA (upper-case ASCII)"),
            ("UNOB", "UNOB (ASCII)"),
            ("UNOC", "UNOC (ISO 8859-1)"),
            ("UNOW", "UNOW (UTF-8)"),
        ],
        string="Character Set",
        default="UNOC",
        tracking=True,
        help="EDIFACT only, outbound: the syntax identifier of UNB, which says which characters the "
        "interchange may hold. A character outside it stops the message with a reason.",
    )
    edi_acknowledgement = fields.Selection(
        [("997", "997 Functional Acknowledgement"), ("999", "999 Implementation Acknowledgement")],
        string="X12 Acknowledgement",
        default="997",
        tracking=True,
        help="X12 only: the acknowledgement sent for every interchange received. EDIFACT partners get a "
        "CONTRL.",
    )
    edi_ack_sla_hours = fields.Integer(
        string="Acknowledgement Due Within (hours)",
        default=24,
        tracking=True,
        help="How long the partner has to acknowledge what we send. An acknowledgement that has not come "
        "by then is an exception on the document it concerns.",
    )
    edi_test_mode = fields.Boolean(
        string="Test Mode",
        default=True,
        tracking=True,
        copy=False,
        help="Interchanges are written with the test indicator (ISA15 T, UNB test flag) and only test "
        "interchanges are accepted. Go Live once the certification checklist passes.",
    )
    edi_confirm_orders = fields.Boolean(
        string="Confirm Orders",
        default=True,
        tracking=True,
        help="Confirm the sale orders made from the partner's purchase orders at once, which sends the order "
        "response. Otherwise a salesperson reviews and confirms them.",
    )
    edi_interchange_sequence_id = fields.Many2one(
        "ir.sequence",
        string="Interchange Numbers",
        copy=False,
        readonly=True,
        help="The partner's interchange control numbers (ISA13, UNB 0020): never repeated, never skipped.",
    )
    edi_group_sequence_id = fields.Many2one(
        "ir.sequence",
        string="Group Numbers",
        copy=False,
        readonly=True,
        help="The partner's functional group control numbers (GS06): never repeated, never skipped.",
    )
    edi_transaction_sequence_id = fields.Many2one(
        "ir.sequence",
        string="Transaction Numbers",
        copy=False,
        readonly=True,
        help="The partner's transaction set control numbers (ST02, UNH 0062): never repeated, never skipped.",
    )

    edi_checklist = fields.Html(
        string="Certification Checklist",
        compute="_compute_edi_checklist",
        sanitize=False,
        help="Each document contract in force, in each direction, exchanged once in test mode without errors "
        "and acknowledged: the partner may go live when every line is ticked.",
    )
    edi_ready_to_go_live = fields.Boolean(
        string="Certified",
        compute="_compute_edi_checklist",
        help="Every line of the certification checklist is ticked.",
    )

    edi_interchange_count = fields.Integer(
        string="Interchanges",
        compute="_compute_edi_interchange_count",
        help="Interchanges sent to and received from the partner, in the register.",
    )

    @api.constrains("system_type", "partner_id")
    def _check_edi_partner(self):
        for backend in self:
            if backend.system_type == "edi" and not backend.partner_id:
                raise ValidationError(
                    self.env._(
                        "EDI backend '%s' must name the trading partner it exchanges with.", backend.name
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.filtered(lambda b: b.system_type == "edi")._ensure_edi_sequences()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if "system_type" in vals:
            self.filtered(lambda b: b.system_type == "edi")._ensure_edi_sequences()
        return result

    def _ensure_edi_sequences(self):
        """Give each EDI backend its three gapless control-number sequences, once."""
        Sequence = self.env["ir.sequence"].sudo()
        for backend in self:
            values = {}
            for kind in CONTROL_NUMBER_KINDS:
                field_name = f"edi_{kind}_sequence_id"
                if not backend[field_name]:
                    values[field_name] = Sequence.create(
                        {
                            "name": f"EDI {kind} numbers of {backend.code}",
                            "code": f"integration_edi.{kind}.{backend.code}",
                            "implementation": "no_gap",
                            "padding": CONTROL_NUMBER_PADDING[kind],
                            "company_id": backend.company_id.id,
                        }
                    ).id
            if values:
                backend.write(values)

    def _edi_envelope(self, transactions=1):
        """The ``#envelope`` of one interchange to this partner, with its control numbers taken now.

        Taken in the transaction that stores the message: when it rolls back,
        so do the numbers (no gap); two transactions asking at once wait for
        each other on the sequence's row (no repeat), the second one retried
        by Odoo as any concurrent update.
        """
        self.ensure_one()
        self._ensure_edi_sequences()
        x12 = self.contract_family == "x12"
        delimiters = {
            name: value
            for name, value in (
                ("element", self.edi_element_separator),
                ("component", self.edi_component_separator),
                ("segment", self.edi_segment_terminator),
                ("decimal", None if x12 else self.edi_decimal_mark),
            )
            if value
        }
        envelope = {
            "sender": {"qualifier": self.edi_our_qualifier or "", "id": self.edi_our_id or ""},
            "receiver": {"qualifier": self.edi_partner_qualifier or "", "id": self.edi_partner_id or ""},
            "interchange": self.edi_interchange_sequence_id.next_by_id(),
            # An X12 TA1 alone (no transaction) has no group: it takes no group number.
            "group": self.edi_group_sequence_id.next_by_id() if transactions else None,
            "transactions": [self.edi_transaction_sequence_id.next_by_id() for _index in range(transactions)],
            "test": self.edi_test_mode,
            "date": fields.Datetime.now().isoformat(timespec="minutes"),
            "delimiters": delimiters,
        }
        if x12:
            envelope.update(
                version=self.edi_version or "00401",
                group_version=self.edi_group_version or "004010",
                acknowledgement_type=self.edi_acknowledgement or "997",
            )
        else:
            envelope.update(
                version=self.edi_version or "D:96A:UN",
                association=self.edi_association or None,
                syntax=f"{self.edi_charset or 'UNOC'}:3",
            )
        return {key: value for key, value in envelope.items() if value is not None}

    def _edi_certification(self):
        """``[(document, label, direction, done)]``: each document contract in force, exchanged in test?

        A document we send counts once the partner accepted it in an
        acknowledgement (our acknowledgements, which are not acknowledged,
        once sent); one we receive once we accepted an interchange of it.
        """
        self.ensure_one()
        Register = self.env["integration.edi.interchange"].sudo()
        labels = dict(Register._fields["document"]._description_selection(self.env))
        done = {
            (line.document, line.direction)
            for line in Register.search(
                [
                    ("backend_id", "=", self.id),
                    ("test", "=", True),
                    ("state", "in", ("accepted", "not_expected")),
                ]
            )
        }
        steps = []
        for flow in self.flow_ids._in_force().sorted(lambda f: (f.direction, f.code)):
            document = flow.code.removeprefix("edi.")
            if document not in labels or document == "interchange":
                continue
            direction = "sent" if flow.direction == "outbound" else "received"
            steps.append((document, labels[document], direction, (document, direction) in done))
        return steps

    @api.depends("flow_ids.state", "edi_test_mode")
    def _compute_edi_checklist(self):
        for backend in self:
            if backend.system_type != "edi":
                backend.edi_checklist = False
                backend.edi_ready_to_go_live = False
                continue
            steps = backend._edi_certification()
            words = {
                "sent": self.env._("sent and acknowledged"),
                "received": self.env._("received and accepted"),
            }
            sent_only = self.env._("sent")  # acknowledgements are not acknowledged
            rows = Markup("").join(
                Markup("<li>%s %s: %s</li>")
                % (
                    "\u2611" if done else "\u2610",
                    label,
                    sent_only if document == "acknowledgement" and direction == "sent" else words[direction],
                )
                for document, label, direction, done in steps
            )
            backend.edi_checklist = Markup("<ul class='list-unstyled'>%s</ul>") % rows if steps else False
            backend.edi_ready_to_go_live = bool(steps) and all(step[-1] for step in steps)

    def _compute_edi_interchange_count(self):
        counts = dict(
            self.env["integration.edi.interchange"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.edi_interchange_count = counts.get(backend, 0)

    def action_open_edi_interchanges(self):
        """The partner's register of interchanges, every state shown."""
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_edi.integration_edi_interchange_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    def action_edi_go_live(self):
        """Leave test mode once the certification checklist passes; say so in the chatter.

        A partner already live stays so (nothing to do).
        """
        self.ensure_one()
        self.check_access("write")
        if not self.edi_test_mode:
            return True
        missing = [
            f"{label} ({direction})"
            for _document, label, direction, done in self._edi_certification()
            if not done
        ]
        if missing or not self._edi_certification():
            raise UserError(
                self.env._(
                    "%(partner)s cannot go live before every document is exchanged once in test mode, "
                    "acknowledged and without errors. Still to do: %(missing)s.",
                    partner=self.display_name,
                    missing=", ".join(missing) or self.env._("activate the partner's contracts"),
                )
            )
        self.edi_test_mode = False
        self.message_post(
            body=self.env._("Certification passed: the partner exchanges production interchanges.")
        )
        return True

    def _edi_ack_due(self, moment=None):
        self.ensure_one()
        return (moment or fields.Datetime.now()) + timedelta(hours=self.edi_ack_sla_hours or 24)
