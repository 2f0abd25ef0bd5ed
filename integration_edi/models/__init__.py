from . import integration_backend
from . import res_partner
