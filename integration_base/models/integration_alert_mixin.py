# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class IntegrationAlertMixin(models.AbstractModel):
    """One open activity per kind of problem on a record, for as long as the problem lasts.

    Checks that run again and again (a cron, a new comparison) must not pile
    up to-dos: the open activity is brought up to date while the problem
    lasts and marked done once it is over.
    """

    _name = "integration.alert.mixin"
    _description = "Integration Alert"
    _inherit = ["mail.activity.mixin"]

    def _keep_alert(self, activity_type_xmlid, user, values, resolved_feedback):
        """Keep the activity of this type in line with the problem.

        ``values`` (its ``note``, and ``summary`` if any) describe the problem
        now: they update the open activity, or open one for ``user``. Empty
        ``values`` mean the problem is over: the open activity is marked done
        with ``resolved_feedback``.
        """
        self.ensure_one()
        open_activity = self.activity_search([activity_type_xmlid])
        if values and open_activity:
            open_activity.write(values)
        elif values:
            self.activity_schedule(activity_type_xmlid, user_id=user.id, **values)
        elif open_activity:
            open_activity.action_feedback(feedback=resolved_feedback)
