"""Migrate Argilla's database and make its users match the secrets, in one process (the CLI costs ~7 s a call).

Run by ``manage.py start`` with the server's environment already set. Idempotent: users that exist get
their role, password and API key brought in line with the secrets, and are (re)joined to the workspace.
Nothing secret is printed.
"""

import asyncio
import os
import sys

from sqlalchemy import select
from sqlalchemy.orm import selectinload


def _users_from_environment() -> list[dict]:
    workspace = os.environ["SINTERNAL_ARGILLA_WORKSPACE"]
    users = [
        {
            "username": os.environ["ARGILLA_OWNER_USERNAME"],
            "role": "owner",
            "password": os.environ["ARGILLA_OWNER_PASSWORD"],
            "api_key": os.environ["ARGILLA_OWNER_API_KEY"],
        },
        {
            "username": os.environ["ARGILLA_ANNOTATOR_USERNAME"],
            "role": "annotator",
            "password": os.environ["ARGILLA_ANNOTATOR_PASSWORD"],
            "api_key": os.environ["ARGILLA_ANNOTATOR_API_KEY"],
        },
    ]
    for user in users:
        user["workspace"] = workspace
    return users


async def _sync_users(users: list[dict]) -> list[str]:
    from argilla_server.contexts import accounts
    from argilla_server.database import AsyncSessionLocal
    from argilla_server.models import User, UserRole, Workspace

    done = []
    async with AsyncSessionLocal() as db:
        for spec in users:
            workspace = (
                await db.execute(select(Workspace).where(Workspace.name == spec["workspace"]))
            ).scalar_one_or_none()
            if workspace is None:
                workspace = Workspace(name=spec["workspace"])
                db.add(workspace)
                await db.flush()
            clash = (
                await db.execute(
                    select(User).where(User.api_key == spec["api_key"], User.username != spec["username"])
                )
            ).scalar_one_or_none()
            if clash is not None:
                raise SystemExit(f"the API key configured for {spec['username']!r} belongs to user {clash.username!r}")
            user = (
                await db.execute(
                    select(User).options(selectinload(User.workspaces)).where(User.username == spec["username"])
                )
            ).scalar_one_or_none()
            if user is None:
                user = User(first_name=spec["username"], username=spec["username"], workspaces=[])
                db.add(user)
            user.role = UserRole(spec["role"])
            user.api_key = spec["api_key"]
            if not user.password_hash or not accounts.verify_password(spec["password"], user.password_hash):
                user.password_hash = accounts.hash_password(spec["password"])
            if all(w.name != workspace.name for w in user.workspaces):
                user.workspaces.append(workspace)
            done.append(f"{spec['username']} ({spec['role']}, workspace {spec['workspace']})")
        await db.commit()
    return done


# Indexes our SQL search backend relies on, added to Argilla's own schema (additive; Alembic ignores them).
# (dataset_id, inserted_at, id) serves the default order (push order) and covers the annotator's pending
# queue (NOT EXISTS a response by the user): at 50,000 records the queue's count went from 84 ms to 20 ms
# and its first page from 79 ms to 0.2 ms (BENCHMARKS.md).
SEARCH_INDEXES = ("CREATE INDEX IF NOT EXISTS sinternal_records_queue ON records (dataset_id, inserted_at, id)",)


def create_search_indexes() -> None:
    from argilla_server.database import sync_engine
    from sqlalchemy import text

    with sync_engine.begin() as connection:
        for statement in SEARCH_INDEXES:
            connection.execute(text(statement))


def main() -> int:
    from argilla_server.cli.database.migrate import migrate_db

    migrate_db(revision="head")
    create_search_indexes()
    for line in asyncio.run(_sync_users(_users_from_environment())):
        print(f"user ready: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
