from . import controllers
from . import models
from . import wizards
from .lib import log_redaction, prefork_resilience

log_redaction.install()
prefork_resilience.install()
