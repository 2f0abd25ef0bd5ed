from . import controllers
from . import models
from .lib import log_redaction

log_redaction.install()
