from . import partner_processor
from . import res_partner
