"""An Argilla search engine that keeps no index: every query is compiled to SQL over Argilla's own database.

Registered as ``sinternal-sql`` (``ARGILLA_SEARCH_ENGINE=sinternal-sql``). Records, responses, suggestions,
metadata and vectors already live in Argilla's SQL database, so the index hooks (``index_records``,
``update_record_response``, ...) have nothing to do and searching cannot drift out of sync with the data.

Semantics follow Argilla's Elasticsearch engine (``argilla_server/search_engine/commons.py``):
- text queries: every whitespace-separated term must occur (case-insensitively) in the chosen field, or in
  any field when none is named (Elasticsearch's ``simple_query_string`` with ``default_operator=AND``);
- terms / range filters on record properties, metadata, suggestions and responses (per user when the
  request carries one), combined with AND;
- the ``pending`` response status for a user = the user has no response on the record (any status);
- sorting on record properties, metadata, suggestion properties and (averaged) response values;
- the default order is insertion order, so the order records were pushed in is the annotators' queue
  (our pusher sends the highest-priority items first). Elasticsearch shuffles per user instead.
- similarity search: cosine similarity over the stored vectors, computed with numpy after the SQL filter.

Only SQLite is supported (the local deployment); whoever runs Argilla on PostgreSQL runs Elasticsearch too.
"""

from collections.abc import Iterable
from typing import Optional, Union

import numpy as np
from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import (
    MetadataPropertyType,
    ResponseStatusFilter,
    SimilarityOrder,
    SortOrder,
)
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Question,
    Record,
    Response,
    Suggestion,
    User,
    Vector,
    VectorSettings,
)
from argilla_server.search_engine.base import (
    AndFilter,
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from sqlalchemy import Text, and_, cast, event, exists, false, func, literal_column, not_, or_, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement

ENGINE_NAME = "sinternal-sql"
CASEFOLD = "sinternal_casefold"  # SQLite's lower() folds ASCII only; text search folds like Python (Unicode)


def _casefold(value):
    return value.casefold() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _register_casefold(dbapi_connection, connection_record):
    if "sqlite" in type(dbapi_connection).__module__:
        dbapi_connection.create_function(CASEFOLD, 1, _casefold, deterministic=True)


RECORD_COLUMNS = {"id", "external_id", "inserted_at", "updated_at", "status"}
SUGGESTION_PROPERTIES = {"value", "score", "agent", "type"}


class SearchCompileError(ValueError):
    """A filter, sort or query this backend cannot express (named in the message)."""


def _json_path(*keys: str) -> str:
    return "$" + "".join(f'."{key}"' for key in keys)


def _json_value(column, *keys: str):
    """A scalar out of a JSON column (SQLite's json_extract): text, number, or NULL."""
    return func.json_extract(column, _json_path(*keys))


def _json_matches(column, path: str, values: list[str]) -> ColumnElement:
    """Elasticsearch keyword semantics: the value at ``path`` equals one of ``values``, or, when it is an
    array, contains one of them. ``json_each`` yields a scalar as one row and an array as one row per item;
    comparing as text makes the terms filter's strings match numbers too (rating questions)."""
    items = func.json_each(column, path).table_valued("value").alias("item")
    return exists(select(1).select_from(items).where(cast(items.c.value, Text).in_(values)))


def _range(expression, ge: Optional[float], le: Optional[float]) -> ColumnElement:
    clauses = []
    if ge is not None:
        clauses.append(expression >= ge)
    if le is not None:
        clauses.append(expression <= le)
    return and_(true(), *clauses)


class Compiler:
    """Turns Argilla's search engine filters, sorts and text queries into SQLAlchemy clauses on ``records``."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    # ---- scopes -----------------------------------------------------------------------------------
    def _record_column(self, scope: RecordFilterScope):
        if scope.property not in RECORD_COLUMNS:
            raise SearchCompileError(f"unknown record property {scope.property!r} (known: {sorted(RECORD_COLUMNS)})")
        return getattr(Record, scope.property)

    def _metadata_value(self, scope: MetadataFilterScope):
        return _json_value(Record.metadata_, scope.metadata_property)

    def _suggestion_subquery(self, scope: SuggestionFilterScope):
        if scope.property not in SUGGESTION_PROPERTIES:
            raise SearchCompileError(
                f"unknown suggestion property {scope.property!r} (known: {sorted(SUGGESTION_PROPERTIES)})"
            )
        column = {
            "value": func.json_extract(Suggestion.value, "$"),
            "score": func.json_extract(Suggestion.score, "$"),
            "agent": Suggestion.agent,
            "type": Suggestion.type,
        }[scope.property]
        base = (
            select(column.label("v"))
            .join(Question, Question.id == Suggestion.question_id)
            .where(Suggestion.record_id == Record.id, Question.name == scope.question)
        )
        return base, column

    def _response_base(self, scope: ResponseFilterScope):
        query = select(Response.id).where(Response.record_id == Record.id)
        if scope.user is not None:
            query = query.where(Response.user_id == scope.user.id)
        return query

    # ---- filters ----------------------------------------------------------------------------------
    def filter(self, filter: Filter) -> ColumnElement:
        if isinstance(filter, AndFilter):
            return and_(true(), *(self.filter(f) for f in filter.filters))
        scope = filter.scope
        if isinstance(scope, ResponseFilterScope):
            return self._response_filter(filter)
        if isinstance(scope, RecordFilterScope):
            column = self._record_column(scope)
            if isinstance(filter, TermsFilter):
                return column.in_(filter.values)
            return _range(column, filter.ge, filter.le)
        if isinstance(scope, MetadataFilterScope):
            if isinstance(filter, TermsFilter):
                return _json_matches(Record.metadata_, _json_path(scope.metadata_property), list(filter.values))
            return _range(self._metadata_value(scope), filter.ge, filter.le)
        if isinstance(scope, SuggestionFilterScope):
            base, column = self._suggestion_subquery(scope)
            if isinstance(filter, TermsFilter):
                if scope.property == "value":
                    return exists(base.where(_json_matches(Suggestion.value, "$", list(filter.values))))
                return exists(base.where(cast(column, Text).in_(list(filter.values))))
            return exists(base.where(_range(column, filter.ge, filter.le)))
        raise SearchCompileError(f"cannot compile filter scope {scope!r}")

    def _response_filter(self, filter: Filter) -> ColumnElement:
        scope: ResponseFilterScope = filter.scope
        if scope.question:
            if isinstance(filter, TermsFilter):
                path = _json_path(scope.question, "value")
                condition = _json_matches(Response.values, path, list(filter.values))
            else:
                condition = _range(_json_value(Response.values, scope.question, "value"), filter.ge, filter.le)
            return exists(self._response_base(scope).where(condition))
        if scope.property == "status" and isinstance(filter, TermsFilter):
            values = [str(v) for v in filter.values]
            clauses = []
            if ResponseStatusFilter.pending.value in values:
                # Pending for a user: the user has not responded at all; without a user: nobody has.
                clauses.append(not_(exists(self._response_base(scope))))
            others = [v for v in values if v != ResponseStatusFilter.pending.value]
            if others:
                clauses.append(exists(self._response_base(scope).where(Response.status.in_(others))))
            return or_(false(), *clauses)
        raise SearchCompileError(f"cannot compile response filter on {scope!r}")

    # ---- text -------------------------------------------------------------------------------------
    def text(self, query: Union[TextQuery, str, None]) -> ColumnElement:
        if query is None:
            return true()
        if isinstance(query, str):
            query = TextQuery(q=query)
        terms = [term.strip('"').casefold() for term in query.q.split() if term.strip('"')]
        if not terms:
            return true()
        if query.field:
            if self.dataset.field_by_name(query.field) is None:
                raise SearchCompileError(f"field {query.field!r} not found in dataset {self.dataset.id}")
            haystack = getattr(func, CASEFOLD)(func.coalesce(cast(_json_value(Record.fields, query.field), Text), ""))
            return and_(true(), *(haystack.contains(term, autoescape=True) for term in terms))
        # Any field: each term must occur in at least one field's value (chat fields are searched as JSON).
        clauses = []
        for term in terms:
            items = func.json_each(Record.fields).table_valued("value").alias("field")
            matched = getattr(func, CASEFOLD)(cast(items.c.value, Text)).contains(term, autoescape=True)
            clauses.append(exists(select(1).select_from(items).where(matched)))
        return and_(true(), *clauses)

    # ---- sorting ----------------------------------------------------------------------------------
    def order_by(self, sort: Optional[list[Order]]) -> list:
        clauses = []
        for order in sort or []:
            expression = self._sort_expression(order.scope)
            clauses.append(expression.desc() if order.order == SortOrder.desc else expression.asc())
        # A stable tail: insertion order (the push order: our pusher sends records in a blind order). Records
        # of one bulk request can share a timestamp: SQLite's rowid keeps their order within the request.
        clauses.extend([Record.inserted_at.asc(), literal_column("records.rowid").asc()])
        return clauses

    def _sort_expression(self, scope):
        if isinstance(scope, RecordFilterScope):
            return self._record_column(scope)
        if isinstance(scope, MetadataFilterScope):
            return self._metadata_value(scope)
        if isinstance(scope, SuggestionFilterScope):
            base, _ = self._suggestion_subquery(scope)
            return base.limit(1).scalar_subquery()
        if isinstance(scope, ResponseFilterScope):
            key = scope.question or scope.property
            if not key:
                raise SearchCompileError(f"cannot sort on response scope {scope!r}")
            column = _json_value(Response.values, key, "value") if scope.question else getattr(Response, key)
            query = select(func.avg(column)).where(Response.record_id == Record.id)
            if scope.user is not None:
                query = query.where(Response.user_id == scope.user.id)
            return query.scalar_subquery()
        raise SearchCompileError(f"cannot sort on scope {scope!r}")


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLSearchEngine(SearchEngine):
    """Answers every search from Argilla's SQL database; the index hooks are no-ops by design."""

    def __init__(self, session_factory=AsyncSessionLocal):
        self._session_factory = session_factory

    @classmethod
    async def new_instance(cls) -> "SQLSearchEngine":
        return cls()

    async def close(self):
        return None

    async def ping(self) -> bool:
        async with self._session_factory() as db:
            return (await db.execute(select(1))).scalar() == 1

    async def info(self) -> dict:
        return {"engine": ENGINE_NAME, "backend": "sql", "index": "none (queries Argilla's database)"}

    # The data is already in SQL: nothing to index, update or delete.
    async def create_index(self, dataset: Dataset):
        return None

    async def delete_index(self, dataset: Dataset):
        return None

    async def configure_metadata_property(self, dataset: Dataset, metadata_property: MetadataProperty):
        return None

    async def configure_index_vectors(self, vector_settings: VectorSettings):
        return None

    async def index_records(self, dataset: Dataset, records: Iterable[Record]):
        return None

    async def partial_record_update(self, record: Record, **update):
        return None

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]):
        return None

    async def update_record_response(self, response: Response):
        return None

    async def delete_record_response(self, response: Response):
        return None

    async def update_record_suggestion(self, suggestion: Suggestion):
        return None

    async def delete_record_suggestion(self, suggestion: Suggestion):
        return None

    # ---- progress and metrics ---------------------------------------------------------------------
    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        query = select(Record.status, func.count()).where(Record.dataset_id == dataset.id).group_by(Record.status)
        async with self._session_factory() as db:
            counts = {str(status): int(n) for status, n in (await db.execute(query)).all()}
        return {"total": sum(counts.values()), **counts}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        query = (
            select(Response.status, func.count())
            .join(Record, Record.id == Response.record_id)
            .where(Record.dataset_id == dataset.id, Response.user_id == user.id)
            .group_by(Response.status)
        )
        async with self._session_factory() as db:
            counts = {str(status): int(n) for status, n in (await db.execute(query)).all()}
        return {"total": sum(counts.values()), **counts}

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        value = _json_value(Record.metadata_, metadata_property.name)
        in_dataset = Record.dataset_id == metadata_property.dataset_id
        async with self._session_factory() as db:
            if metadata_property.type == MetadataPropertyType.terms:
                # Counted in SQL: json_each yields a scalar value as one row and an array as one row per item.
                items = func.json_each(Record.metadata_, _json_path(metadata_property.name)).table_valued("value")
                term = cast(items.c.value, Text)
                rows = (
                    await db.execute(
                        select(term, func.count())
                        .select_from(Record)
                        .join(items, true())
                        .where(in_dataset)
                        .group_by(term)
                        .order_by(func.count().desc(), term)
                    )
                ).all()
                values = [TermsMetrics.TermCount(term=t, count=int(c)) for t, c in rows]
                return TermsMetrics(total=sum(v.count for v in values), values=values)
            low, high = (await db.execute(select(func.min(value), func.max(value)).where(in_dataset))).one()
        if metadata_property.type == MetadataPropertyType.integer:
            return IntegerMetadataMetrics(min=low, max=high)
        return FloatMetadataMetrics(min=low, max=high)

    # ---- search -----------------------------------------------------------------------------------
    def _where(self, compiler: Compiler, dataset: Dataset, query, filter) -> ColumnElement:
        clauses = [Record.dataset_id == dataset.id, compiler.text(query)]
        if filter is not None:
            clauses.append(compiler.filter(filter))
        return and_(*clauses)

    async def search(
        self,
        dataset: Dataset,
        query: Optional[Union[TextQuery, str]] = None,
        filter: Optional[Filter] = None,
        sort: Optional[list[Order]] = None,
        offset: int = 0,
        limit: int = 100,
        user_id: Optional[str] = None,
    ) -> SearchResponses:
        compiler = Compiler(dataset)
        where = self._where(compiler, dataset, query, filter)
        page = select(Record.id).where(where).order_by(*compiler.order_by(sort)).offset(offset).limit(limit)
        total = select(func.count()).select_from(Record).where(where)
        async with self._session_factory() as db:
            ids = (await db.execute(page)).scalars().all()
            count = (await db.execute(total)).scalar_one()
        return SearchResponses(items=[SearchResponseItem(record_id=rid, score=1.0) for rid in ids], total=count)

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: Optional[list[float]] = None,
        record: Optional[Record] = None,
        query: Optional[Union[TextQuery, str]] = None,
        filter: Optional[Filter] = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: Optional[float] = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        excluded = None
        if not value:
            excluded = record.id
            value = record.vector_value_by_vector_settings(vector_settings)
        if not value:
            raise ValueError("Cannot find a vector value to apply with provided info")
        compiler = Compiler(dataset)
        candidates = (
            select(Vector.record_id, Vector.value)
            .join(Record, Record.id == Vector.record_id)
            .where(Vector.vector_settings_id == vector_settings.id, self._where(compiler, dataset, query, filter))
        )
        if excluded is not None:
            candidates = candidates.where(Vector.record_id != excluded)
        async with self._session_factory() as db:
            rows = (await db.execute(candidates)).all()
        if not rows:
            return SearchResponses(items=[], total=0)
        matrix = np.asarray([row[1] for row in rows], dtype=np.float64)
        target = np.asarray(value, dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(target) or 1.0)
        scores = matrix @ target / np.where(norms == 0, 1.0, norms)
        if order == SimilarityOrder.least_similar:
            scores = -scores
        best = np.argsort(-scores, kind="stable")[:max_results]
        items = [
            SearchResponseItem(record_id=rows[i][0], score=float(scores[i]))
            for i in best
            if threshold is None or scores[i] >= threshold
        ]
        return SearchResponses(items=items, total=len(items))


__all__ = ["ENGINE_NAME", "SQLSearchEngine", "Compiler", "SearchCompileError"]
