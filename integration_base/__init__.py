from . import controllers
from . import models
from .lib import log_redaction, prefork_resilience

log_redaction.install()
prefork_resilience.install()
