# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo.tests import TransactionCase, new_test_user, tagged

SUITE_MODULES = {"integration_base", "integration_mes", "integration_cmms", "integration_edi"}
MAGIC_FIELDS = {"id", "create_uid", "create_date", "write_uid", "write_date", "display_name"}
# Records only the engine makes: no New button anywhere they are listed or shown.
ENGINE_MADE = (
    "integration.message",
    "integration.message.audit",
    "integration.message.link",
    "integration.delivery.attempt",
    "integration.message.trend",
    "integration.missing.mapping",
    "integration.plant.health",
)


@tagged("post_install", "-at_install")
class TestUiConventions(TransactionCase):
    """What every screen of the suite promises: help on each field, an empty state on each list,
    no New button where people must not make records, and no totals of figures that do not add up."""

    def test_every_field_of_the_suite_says_what_it_is(self):
        silent = [
            f"{model_name}.{name}"
            for model_name, model in self.env.registry.items()
            for name, field in model._fields.items()
            if getattr(field, "_module", None) in SUITE_MODULES
            and name not in MAGIC_FIELDS
            and not field.help
        ]
        self.assertFalse(silent, "fields without help text")

    def test_every_window_action_has_an_empty_state(self):
        actions = self.env["ir.actions.act_window"].search([("target", "!=", "new")])
        data = self.env["ir.model.data"].search(
            [("model", "=", "ir.actions.act_window"), ("module", "in", list(SUITE_MODULES))]
        )
        ours = actions.browse(data.mapped("res_id")) & actions
        self.assertTrue(ours)
        self.assertFalse([action.name for action in ours if not action.help], "actions without help")

    def test_engine_made_records_offer_no_new_button(self):
        manager = new_test_user(
            self.env, login="ui_manager", groups="integration_base.group_integration_manager"
        )
        for model in ENGINE_MADE:
            views = self.env["ir.ui.view"].search(
                [("model", "=", model), ("type", "in", ("list", "form", "kanban")), ("mode", "=", "primary")]
            )
            for view in views:
                arch = (
                    self.env[model].with_user(manager).get_views([(view.id, view.type)])["views"][view.type]
                )
                create = etree.fromstring(arch["arch"]).get("create")
                with self.subTest(model=model, view=view.name):
                    # Without the right to create, the web client shows no New button by itself.
                    can_create = self.env[model].with_user(manager).has_access("create")
                    self.assertFalse(can_create and create not in ("0", "false", "False"))

    def test_list_group_totals_only_add_what_adds_up(self):
        Message = self.env["integration.message"]
        aggregators = {
            name: Message._fields[name]._description_aggregator(self.env)
            for name in ("attempts", "flow_version", "duration")
        }
        self.assertEqual(aggregators, {"attempts": None, "flow_version": None, "duration": "avg"})
        attempt = self.env["integration.delivery.attempt"]._fields
        self.assertIsNone(attempt["status_code"]._description_aggregator(self.env), "no sum of HTTP codes")
        self.assertEqual(attempt["latency_ms"]._description_aggregator(self.env), "avg")
