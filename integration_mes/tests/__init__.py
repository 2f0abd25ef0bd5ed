from . import test_mes_backend
