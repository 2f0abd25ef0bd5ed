# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Integration MES",
    "summary": "Connects manufacturing orders with the plant's MES",
    "version": "19.0.1.0.0",
    "category": "Manufacturing",
    "author": "Integration Suite",
    "license": "LGPL-3",
    "depends": ["integration_base", "mrp"],
    "data": ["views/integration_backend_views.xml"],
    "installable": True,
}
