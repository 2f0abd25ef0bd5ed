# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""X12 and EDIFACT for the engine: the codecs ``x12`` and ``edifact``, registered when the module loads."""

from odoo.addons.integration_base.lib import formats

from . import edifact, x12

formats.register("x12", x12)
formats.register("edifact", edifact)
