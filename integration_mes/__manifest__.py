# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration MES",
    "summary": "Connects manufacturing orders with the plant's MES",
    "version": "19.0.1.0.0",
    "category": "Manufacturing",
    "author": "Integration Suite",
    "maintainers": ["integration-suite"],
    "website": "https://github.com/integration-suite",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_base", "mrp"],
    "data": [
        "security/ir.model.access.csv",
        "security/mes_security.xml",
        "data/integration_flow_template_data.xml",
        "data/integration_event_data.xml",
        "data/integration_subscription_data.xml",
        "data/integration_flow_template_b2mml_data.xml",
        "views/integration_backend_views.xml",
        "views/mes_quality_hold_views.xml",
        "views/mrp_production_views.xml",
        "views/mrp_workorder_views.xml",
    ],
    "demo": ["demo/integration_mes_demo.xml"],
    # The browser tours of users' journeys (tests only).
    "assets": {"web.assets_tests": ["integration_mes/static/tests/tours/**/*"]},
    "installable": True,
}
