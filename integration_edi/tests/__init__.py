from . import test_edi_backend
