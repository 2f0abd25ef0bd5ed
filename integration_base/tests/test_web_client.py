# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestWebClient(HttpCase):
    """The Integration app opens in a real browser without a JavaScript error."""

    def _open(self, action):
        self.browser_js(
            f"/odoo/action-integration_base.{action}",
            "console.log('test successful')",
            "odoo.isReady === true && !!document.querySelector('.o_action_manager .o_view_controller')",
            login="admin",
            timeout=120,
        )

    def test_exceptions_and_backends_open(self):
        self._open("integration_message_action_exceptions")
        self._open("integration_backend_action_kanban")
