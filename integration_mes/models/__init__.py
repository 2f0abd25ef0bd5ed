from . import integration_backend
from . import mrp_production
