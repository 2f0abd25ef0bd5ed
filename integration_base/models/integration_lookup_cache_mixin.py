# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class IntegrationLookupCacheMixin(models.AbstractModel):
    """Records that webhook calls look up through a per-worker cache (``ormcache``).

    Every call needs the backend of its URL and the contract in force; kept
    in each worker's cache, they cost no query. The cache is dropped (in
    every worker, through Odoo's cache signalling) when such a record is
    created or deleted, or when a field of ``_lookup_cache_fields`` changes.
    """

    _name = "integration.lookup.cache.mixin"
    _description = "Integration: records of the webhooks' cached lookups"
    _lookup_cache_fields = frozenset()

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        if self._lookup_cache_fields & set(vals):
            self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
