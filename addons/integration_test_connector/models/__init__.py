from . import partner_processor
from . import contact_processor
