"""Paginators for lists that grow with the clinic's years: they never count a whole table.

A COUNT(*) reads every row it counts, so a page of 25 patients or 100 visits would cost as
much as the table is long. The search counts no further than it shows; the admin's
unfiltered lists take PostgreSQL's own estimate of the table's size.
"""

from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections


class CappedCountPaginator(Paginator):
    """Counts the matches up to `limit` and no further: `count` is at most `limit`, and
    `more_than_limit` says whether there are more (to ask for a narrower search)."""

    def __init__(self, object_list, per_page, *, limit, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit

    @cached_property
    def _found(self):
        return self.object_list.order_by()[: self.limit + 1].count()

    @cached_property
    def count(self):
        return min(self._found, self.limit)

    @property
    def more_than_limit(self):
        return self._found > self.limit


class EstimatedCountPaginator(Paginator):
    """The admin's paginator: an unfiltered list on PostgreSQL is counted from the
    planner's statistics (pg_class.reltuples, kept by autovacuum), not row by row.
    Filtered lists, small tables and SQLite are counted exactly."""

    # Below this many rows an exact count is cheap, and exact counts keep small lists
    # (and tests) precise while the statistics lag behind.
    EXACT_BELOW = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql" or queryset.query.where:
            return super().count
        table = queryset.model._meta.db_table
        # One query either way: the exact count runs only for a small table (or one not
        # analysed yet, whose reltuples is -1).
        sql = (
            "SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint "  # noqa: S608 (our table)
            f"ELSE (SELECT COUNT(*) FROM {connection.ops.quote_name(table)}) END "
            "FROM pg_class WHERE oid = %s::regclass"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.EXACT_BELOW, table])
            return cursor.fetchone()[0]
