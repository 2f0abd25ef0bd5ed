# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration Base",
    "summary": "Governed integration layer: backends, flows, messages, mappings",
    "version": "19.0.1.0.0",
    "category": "Technical",
    "author": "Integration Suite",
    "license": "LGPL-3",
    "depends": ["mail", "stock", "queue_job"],
    "data": [
        "security/integration_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_channel_data.xml",
        "views/integration_backend_views.xml",
        "views/integration_menus.xml",
    ],
    "installable": True,
    "application": True,
}
