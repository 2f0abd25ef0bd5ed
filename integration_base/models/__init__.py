from . import integration_backend
from . import integration_flow
from . import integration_processor
from . import integration_message
from . import integration_message_link
from . import integration_mapping
from . import res_users
from . import integration_credential
