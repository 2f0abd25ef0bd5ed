from . import integration_mapping_wizard
from . import integration_message_cancel_wizard
