# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Endpoints for probes and load balancers."""

import logging

from odoo import http
from odoo.http import request

from ..exceptions import WebhookRefused
from ..lib.prometheus import CONTENT_TYPE
from .webhook import json_response, refusal_response, request_headers, webhook_route, wrong_method

_logger = logging.getLogger(__name__)


class IntegrationMonitoringController(http.Controller):
    @webhook_route("/integration/v1/health", readonly=True)
    def health(self, **_params):
        """200 when the database answers and jobs are run, 503 otherwise; always JSON."""
        if refused_method := wrong_method("GET"):
            return refused_method
        try:
            healthy, report = request.env["integration.health"].sudo()._check()
        except Exception:
            _logger.exception("integration health check failed")
            return json_response(503, {"status": "down", "error": "health_check_failed"})
        return json_response(200 if healthy else 503, report)

    @webhook_route("/integration/metrics", readonly=True)
    def metrics(self, **_params):
        """Prometheus metrics, for the bearer of the metrics token."""
        if refused_method := wrong_method("GET"):
            return refused_method
        try:
            text = request.env["integration.metrics"].sudo()._render(request_headers())
        except WebhookRefused as refused:
            return refusal_response(refused)
        return request.make_response(text, headers=[("Content-Type", CONTENT_TYPE)])
