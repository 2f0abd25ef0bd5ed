# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# Which floor events open a time interval and which close one.
OPENING_ACTIONS = ("start", "resume")
CLOSING_ACTIONS = ("pause", "finish")


class MesOperationEvent(models.Model):
    """What the shop floor said about an operation, and when: start, pause, resume, finish.

    Events reach Odoo in any order (network retries, a terminal that was
    offline), so the work order's time tracking is not built by applying each
    one as it comes, but computed again from all of them, sorted by the
    floor's timestamps: a late "pause" then splits the interval it falls in
    instead of closing whatever is open.
    """

    _name = "mes.operation.event"
    _description = "MES Operation Event"
    _order = "at, id"

    backend_id = fields.Many2one(
        "integration.backend",
        required=True,
        readonly=True,
        index=True,
        help="The MES that reported the event.",
    )
    workorder_id = fields.Many2one(
        "mrp.workorder",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        help="The work order (operation of a manufacturing order) the event is about.",
    )
    production_id = fields.Many2one(
        related="workorder_id.production_id", store=True, help="The manufacturing order of the work order."
    )
    company_id = fields.Many2one(
        related="workorder_id.company_id", store=True, help="The company of the work order."
    )
    event_ref = fields.Char(
        string="Event", required=True, readonly=True, help="The MES's own id of the event."
    )
    action = fields.Selection(
        [("start", "Start"), ("pause", "Pause"), ("resume", "Resume"), ("finish", "Finish")],
        required=True,
        readonly=True,
        help="What happened on the floor: start and resume open a time interval, pause and finish close it.",
    )
    at = fields.Datetime(required=True, readonly=True, help="When it happened on the floor, as the MES said.")
    operator = fields.Char(readonly=True, help="Who did it, as the MES named them.")

    _backend_event_unique = models.Constraint(
        "UNIQUE(backend_id, event_ref)", "The MES already reported an operation event with this id."
    )

    @api.depends("action", "at")
    def _compute_display_name(self):
        labels = dict(self._fields["action"]._description_selection(self.env))
        for event in self:
            event.display_name = f"{labels.get(event.action, '')} {fields.Datetime.to_string(event.at)}"

    def _intervals(self):
        """``[(start, end or False, operator)]`` of the floor's work, from these events sorted by time.

        A closing event at the same instant as an opening one comes first, so
        a pause and a resume stamped alike leave no zero-length gap. An opening
        event while an interval is open, or a closing one while none is, adds
        nothing: the floor repeats itself, and the event it lacks may still be
        on its way.
        """
        intervals = []
        opened = None
        for event in self.sorted(lambda e: (e.at, e.action in OPENING_ACTIONS, e.id)):
            if event.action in OPENING_ACTIONS and opened is None:
                opened = event
            elif event.action in CLOSING_ACTIONS and opened is not None:
                intervals.append((opened.at, event.at, opened.operator))
                opened = None
        if opened is not None:
            intervals.append((opened.at, False, opened.operator))
        return intervals
