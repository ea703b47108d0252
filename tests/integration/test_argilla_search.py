"""Our SQL search backend (services/argilla/sinternal_argilla/sql_search.py) behind the real Argilla server:
every filter, sort, text and similarity query the SDK and the UI send, checked against the same answer
computed in Python from the records themselves."""

import math

import pytest

pytestmark = pytest.mark.integration
FAMILIES = ["dan", "none", "roleplay"]


@pytest.fixture(scope="module")
def search_dataset(argilla_service):
    import argilla as rg

    owner = argilla_service.client()
    settings = rg.Settings(
        fields=[rg.TextField(name="prompt"), rg.TextField(name="answer")],
        questions=[
            rg.LabelQuestion(name="verdict", labels=["safe", "unsafe"]),
            rg.MultiLabelQuestion(name="tags", labels=["a", "b", "c"], required=False),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="family"),
            rg.IntegerMetadataProperty(name="priority"),
            rg.FloatMetadataProperty(name="score"),
        ],
        vectors=[rg.VectorField(name="emb", dimensions=3)],
    )
    dataset = rg.Dataset(name="search_semantics", workspace="sinternal", settings=settings, client=owner).create()
    records = [
        rg.Record(
            id=f"k{i:02d}",
            fields={
                "prompt": f"prompt {i} " + ("explosive recipe" if i % 4 == 0 else "garden tips"),
                "answer": "Ünïcode answer" if i == 7 else f"answer {i}",
            },
            metadata={"family": FAMILIES[i % 3], "priority": i % 5, "score": round(i / 30, 3)},
            suggestions=[rg.Suggestion("verdict", "unsafe" if i % 2 else "safe", score=round(i / 30, 3), agent="t")],
            vectors={"emb": [math.cos(i), math.sin(i), 0.5]},
        )
        for i in range(30)
    ]
    dataset.records.log(records)
    annotator = argilla_service.client("ANNOTATOR")
    server_ids = {r.id: r._server_id for r in dataset.records}
    for i in (0, 1, 2):  # the annotator answered three records (one as a draft)
        annotator.api.http_client.post(
            f"/api/v1/records/{server_ids[f'k{i:02d}']}/responses",
            json={
                "values": {
                    "verdict": {"value": "unsafe" if i else "safe"},
                    "tags": {"value": ["a", "c"] if i == 1 else ["b"]},
                },
                "status": "draft" if i == 2 else "submitted",
            },
        ).raise_for_status()
    return owner, annotator, dataset


def search(client, dataset, body, me=False, limit=100, sort=None):
    if sort:
        body = {**body, "sort": sort}
    response = client.api.http_client.post(
        f"/api/v1/{'me/' if me else ''}datasets/{dataset.id}/records/search", json=body, params={"limit": limit}
    )
    response.raise_for_status()
    payload = response.json()
    return [item["record"]["external_id"] for item in payload["items"]], payload["total"]


def terms(entity, values, **scope):
    return {"type": "terms", "scope": {"entity": entity, **scope}, "values": values}


def keys(indices):
    return [f"k{i:02d}" for i in indices]


def test_filters_sort_and_text(search_dataset):
    owner, annotator, dataset = search_dataset
    ids, total = search(owner, dataset, {})
    assert ids == keys(range(30)) and total == 30  # default order: insertion (push) order
    ids, _ = search(owner, dataset, {"filters": {"and": [terms("metadata", ["dan"], metadata_property="family")]}})
    assert ids == keys(i for i in range(30) if i % 3 == 0)
    ids, _ = search(
        owner,
        dataset,
        {
            "filters": {
                "and": [
                    {
                        "type": "range",
                        "scope": {"entity": "metadata", "metadata_property": "priority"},
                        "ge": 3,
                        "le": 4,
                    },
                    terms("metadata", ["none", "roleplay"], metadata_property="family"),
                ]
            }
        },
    )
    assert ids == keys(i for i in range(30) if i % 5 >= 3 and i % 3 != 0)
    ids, _ = search(owner, dataset, {"filters": {"and": [terms("suggestion", ["unsafe"], question="verdict")]}})
    assert ids == keys(range(1, 30, 2))
    ids, _ = search(
        owner,
        dataset,
        {
            "filters": {
                "and": [
                    {
                        "type": "range",
                        "scope": {"entity": "suggestion", "question": "verdict", "property": "score"},
                        "le": 0.1,
                    }
                ]
            }
        },
    )
    assert ids == keys(i for i in range(30) if i / 30 <= 0.1)
    ids, _ = search(
        owner, dataset, {}, sort=[{"scope": {"entity": "metadata", "metadata_property": "score"}, "order": "desc"}]
    )
    assert ids == keys(reversed(range(30)))
    ids, _ = search(owner, dataset, {"query": {"text": {"q": "explosive recipe"}}})
    assert ids == keys(range(0, 30, 4))
    ids, _ = search(owner, dataset, {"query": {"text": {"q": "ünïcode", "field": "answer"}}})
    assert ids == ["k07"]
    ids, total = search(owner, dataset, {}, limit=5)
    assert len(ids) == 5 and total == 30


def test_response_filters_and_the_annotators_pending_queue(search_dataset):
    owner, annotator, dataset = search_dataset
    submitted = {"filters": {"and": [terms("response", ["submitted"], property="status")]}}
    assert search(owner, dataset, submitted)[0] == keys([0, 1])
    pending = {"filters": {"and": [terms("response", ["pending"], property="status")]}}
    ids, total = search(annotator, dataset, pending, me=True)
    assert ids == keys(range(3, 30)) and total == 27  # drafts are not pending: the annotator has a response
    either = {"filters": {"and": [terms("response", ["pending", "draft"], property="status")]}}
    assert search(annotator, dataset, either, me=True)[0] == keys(range(2, 30))
    by_value = {"filters": {"and": [terms("response", ["unsafe"], question="verdict")]}}
    assert search(owner, dataset, by_value)[0] == keys([1, 2])
    by_tag = {"filters": {"and": [terms("response", ["c"], question="tags")]}}  # multi-label: array contains
    assert search(owner, dataset, by_tag)[0] == keys([1])
    progress = dataset.progress(with_users_distribution=True)
    assert progress["total"] == 30 and progress["completed"] == 2


def test_similarity_search_and_metadata_metrics(search_dataset):
    import argilla as rg

    owner, _annotator, dataset = search_dataset
    target = [math.cos(5), math.sin(5), 0.5]
    hits = [
        record
        for record, _score in dataset.records(query=rg.Query(similar=rg.Similar(name="emb", value=target)), limit=3)
    ]
    assert hits[0].id == "k05"

    def cosine(i):
        v = [math.cos(i), math.sin(i), 0.5]
        return sum(a * b for a, b in zip(v, target, strict=True)) / (
            math.sqrt(sum(a * a for a in v)) * math.sqrt(sum(b * b for b in target))
        )

    expected = sorted(range(30), key=lambda i: -cosine(i))[:3]
    assert [r.id for r in hits] == keys(expected)
    family = next(p for p in dataset.settings.metadata if p.name == "family")
    metrics = owner.api.http_client.get(f"/api/v1/metadata-properties/{family.id}/metrics").json()
    assert metrics["total"] == 30 and {v["term"]: v["count"] for v in metrics["values"]} == {f: 10 for f in FAMILIES}
    priority = next(p for p in dataset.settings.metadata if p.name == "priority")
    metrics = owner.api.http_client.get(f"/api/v1/metadata-properties/{priority.id}/metrics").json()
    assert (metrics["min"], metrics["max"]) == (0, 4)
