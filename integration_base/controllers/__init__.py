from . import monitoring
from . import webhook
