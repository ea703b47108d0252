"""Our SQL search engine alone (no HTTP, no Argilla record loading or permission checks), in process on the
server's database; run with the server's Python by bench_argilla.py:

    ARGILLA_DATABASE_URL=sqlite+aiosqlite:////path/argilla.db .venv-argilla/bin/python \
        benchmarks/argilla_engine_timing.py <dataset name> <annotator username> <repeats>
"""

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "argilla"))
from argilla_server.database import AsyncSessionLocal  # noqa: E402
from argilla_server.models import Dataset, User  # noqa: E402
from argilla_server.search_engine.base import (
    AndFilter,
    MetadataFilterScope,
    ResponseFilterScope,  # noqa: E402
    TermsFilter,
)
from sinternal_argilla.sql_search import SQLSearchEngine  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402


async def main(name: str, username: str, repeats: int) -> dict:
    async with AsyncSessionLocal() as db:
        dataset = (
            await db.execute(select(Dataset).options(selectinload(Dataset.fields)).where(Dataset.name == name))
        ).scalar_one()
        user = (await db.execute(select(User).where(User.username == username))).scalar_one()
    engine = SQLSearchEngine()
    pending = TermsFilter(ResponseFilterScope(property="status", user=user), ["pending"])
    family = TermsFilter(MetadataFilterScope("attack_family"), ["roleplay"])
    split = TermsFilter(MetadataFilterScope("split"), ["eval"])
    queries = {
        "first page": None,
        "pending queue of a user": AndFilter([pending]),
        "pending + attack_family + split": AndFilter([pending, family, split]),
    }
    out = {}
    for label, search_filter in queries.items():
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            await engine.search(dataset, filter=search_filter, limit=10, user_id=user.id)
            seconds.append(time.perf_counter() - start)
        out[label] = round(1000 * statistics.median(seconds), 1)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))))
