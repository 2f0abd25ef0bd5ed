from . import partner_processor
