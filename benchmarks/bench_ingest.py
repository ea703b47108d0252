"""Benchmark: ingest, normalise, dedup, split and validate N synthetic prompt rows.

Two sides, each in its own child process so that time and peak memory are per side:

- `sinternal`: the project's own code, timed end to end:
  `read_user_file` (JSONL ingest + record validation) -> `build_pool` (normalise, exact + normalised
  dedup, near-duplicate groups, deterministic split) -> DuckDB write (`Warehouse.write`, a temporary
  file) + the six `sql/queries/check_prompt_pool_*.sql` checks (`Warehouse.query`).
- `baseline`: a plain pandas, row-by-row implementation of the same steps: the JSONL read line by line
  with `json.loads` and validated in a Python loop, a pandas DataFrame, the keys computed per row with
  `Series.apply` over plain Python functions (unicodedata NFKC, lower, regex, the same STOPWORDS),
  dedup by `iterrows` into a dict, the split by hashlib per row, and the pool checks as per-row Python.

The synthetic JSONL is generated (seeded, deterministic) and written BEFORE anything is timed. Both
sides must produce the same pool: row count, train/eval counts, dedup statistics and a sha256 digest of
every output row (id, text, label, category, split, keys, merge counts) are compared, and a mismatch
fails the run.

    python benchmarks/bench_ingest.py --rows 1000000 [--baseline-rows N] [--out benchmarks/results/ingest.json]

Without --baseline-rows the baseline first runs at full size; if it runs past --baseline-timeout it is
stopped and re-run on --fallback-rows rows (both sides, for the equality check), and its full-size time
is extrapolated linearly (reported as such).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

EVAL_FRACTION = 0.2  # PromptPoolConfig defaults
SPLIT_SEED = 0
# the pool's columns (sinternal_assets.prompts.pool.POOL_COLUMNS), written out rather than imported: the pandas
# baseline's process must not import polars, or its peak RSS would count it
DIGEST_COLUMNS = (
    "prompt_id",
    "text",
    "label",
    "category",
    "source_category",
    "source",
    "source_record",
    "licence",
    "split",
    "norm_key",
    "group_key",
    "n_chars",
    "n_merged",
    "merged_sources",
)

# ------------------------------------------------------------------------------------------------
# Synthetic data (deterministic for a given seed and row count)
# ------------------------------------------------------------------------------------------------

HARM_VOCAB: dict[str, tuple[list[str], list[str]]] = {
    # category -> (verbs, objects). Synthetic prompts for a safety classifier's test data: labels only.
    "violent_harm": (
        ["hurt", "attack", "ambush", "injure", "threaten", "assault"],
        [
            "neighbour",
            "coworker",
            "security guard",
            "rival gang member",
            "ex partner",
            "teacher",
            "landlord",
            "referee",
            "delivery driver",
            "shop owner",
            "cyclist",
            "protester",
        ],
    ),
    "cbrn": (
        ["synthesise", "weaponise", "culture", "enrich", "aerosolise", "smuggle"],
        [
            "nerve agent",
            "toxin",
            "pathogen",
            "uranium sample",
            "chlorine gas",
            "ricin batch",
            "anthrax spore",
            "sarin precursor",
            "radioactive source",
            "dirty bomb",
            "mustard gas",
            "botulinum",
        ],
    ),
    "cybercrime": (
        ["hack", "breach", "phish", "crack", "hijack", "infect"],
        [
            "bank account",
            "email inbox",
            "corporate network",
            "wifi router",
            "hospital server",
            "password database",
            "crypto wallet",
            "smart lock",
            "webcam",
            "payroll system",
            "school portal",
            "cloud bucket",
        ],
    ),
    "fraud_crime": (
        ["forge", "launder", "counterfeit", "embezzle", "scam", "falsify"],
        [
            "passport",
            "cheque",
            "insurance claim",
            "tax return",
            "invoice",
            "banknote",
            "pension fund",
            "charity donation",
            "loan application",
            "payslip",
            "receipt",
            "will",
        ],
    ),
    "illegal_goods": (
        ["buy", "sell", "traffic", "grow", "import", "stash"],
        [
            "cocaine",
            "unlicensed firearm",
            "stolen phone",
            "ivory",
            "fentanyl pill",
            "ghost gun",
            "counterfeit watch",
            "cannabis plant",
            "methamphetamine",
            "silencer",
            "ammunition",
            "stolen car part",
        ],
    ),
    "hate_harassment": (
        ["harass", "humiliate", "bully", "intimidate", "dox", "stalk"],
        [
            "classmate",
            "journalist",
            "streamer",
            "minority group",
            "colleague",
            "politician",
            "neighbour kid",
            "online critic",
            "ex friend",
            "team mate",
            "influencer",
            "tenant",
        ],
    ),
    "misinformation": (
        ["fabricate", "spread", "fake", "amplify", "invent", "seed"],
        [
            "vaccine rumour",
            "election result",
            "news story",
            "health scare",
            "climate hoax",
            "poll",
            "celebrity death",
            "bank collapse",
            "war report",
            "court ruling",
            "scientific study",
            "product recall",
        ],
    ),
    "sexual_content": (
        ["film", "share", "leak", "solicit", "distribute", "record"],
        [
            "intimate photo",
            "private video",
            "explicit chat",
            "nude image",
            "hidden camera clip",
            "sexting log",
            "webcam recording",
            "revenge image",
            "bedroom footage",
            "dating app photo",
            "locker room video",
            "private message",
        ],
    ),
    "self_harm": (
        ["overdose", "starve", "poison", "cut", "hide", "worsen"],
        [
            "myself",
            "painkiller",
            "sleeping pill",
            "eating disorder",
            "wound",
            "insulin",
            "bleach",
            "razor",
            "medication",
            "withdrawal",
            "scar",
            "injury",
        ],
    ),
    "privacy": (
        ["track", "locate", "spy", "wiretap", "surveil", "unmask"],
        [
            "ex girlfriend",
            "anonymous account",
            "phone location",
            "home address",
            "private diary",
            "medical record",
            "credit report",
            "text message",
            "employee",
            "tenant",
            "celebrity",
            "whistleblower",
        ],
    ),
    "intellectual_property": (
        ["pirate", "crack", "rip", "bypass", "clone", "plagiarise"],
        [
            "movie",
            "software licence",
            "video game",
            "ebook",
            "music album",
            "streaming service",
            "font",
            "textbook",
            "patent",
            "paywall",
            "dissertation",
            "design file",
        ],
    ),
    "model_manipulation": (
        ["jailbreak", "bypass", "override", "disable", "trick", "extract"],
        [
            "safety filter",
            "system prompt",
            "content policy",
            "moderation model",
            "guardrail",
            "refusal",
            "hidden instruction",
            "training data",
            "api key",
            "rate limiter",
            "watermark",
            "classifier",
        ],
    ),
    "other_harm": (
        ["sabotage", "vandalise", "poach", "dump", "evade", "rig"],
        [
            "power line",
            "water supply",
            "traffic light",
            "toxic waste",
            "speed camera",
            "slot machine",
            "exam",
            "horse race",
            "fire alarm",
            "train signal",
            "rare bird",
            "customs check",
        ],
    ),
}
HARM_ADJECTIVES = [
    "",
    "",
    "",
    "cheap",
    "untraceable",
    "quick",
    "quiet",
    "local",
    "small",
    "large",
    "anonymous",
    "foreign",
    "old",
    "new",
    "remote",
    "public",
    "private",
    "rich",
    "young",
    "elderly",
    "famous",
    "unprotected",
    "modern",
    "rural",
]
HARM_CONTEXTS = [
    "",
    "",
    "",
    "without getting caught",
    "at home",
    "using household items",
    "in a small town",
    "before the weekend",
    "on a tight budget",
    "from scratch",
    "without leaving traces",
    "over the internet",
    "in under an hour",
    "for revenge",
    "while on holiday",
    "with a friend",
    "late at night",
    "during a festival",
    "near a school",
    "as a teenager",
    "for profit",
    "with no experience",
    "in another country",
    "using a burner phone",
    "in the city centre",
]
BENIGN_VERBS = [
    "bake",
    "plant",
    "fix",
    "paint",
    "clean",
    "learn",
    "organise",
    "repair",
    "cook",
    "train",
    "study",
    "design",
    "build",
    "knit",
    "photograph",
    "budget",
    "plan",
    "decorate",
    "translate",
    "compost",
    "sharpen",
    "tune",
    "prune",
    "practise",
]
BENIGN_OBJECTS = [
    "sourdough bread",
    "tomato plant",
    "bicycle chain",
    "kitchen wall",
    "bathroom tile",
    "spanish verb",
    "bookshelf",
    "leaking tap",
    "lasagne",
    "puppy",
    "calculus exam",
    "garden shed",
    "wool scarf",
    "sunset",
    "family holiday",
    "wedding speech",
    "living room",
    "birthday cake",
    "guitar",
    "rose bush",
    "kitchen knife",
    "resume",
    "python script",
    "fish curry",
    "vegetable patch",
    "chess opening",
    "piano piece",
    "bird feeder",
    "compost heap",
    "laptop battery",
    "sweater",
    "herb garden",
    "bread roll",
    "pasta sauce",
    "marathon",
    "watercolour",
    "treehouse",
    "kayak",
    "chicken coop",
    "apple pie",
    "spreadsheet",
    "website",
    "short story",
    "poem",
    "science fair",
    "cover letter",
    "phone screen",
    "door hinge",
    "fence post",
    "cupboard",
    "lawn mower",
    "ceiling fan",
    "dog bed",
    "cat tree",
    "pizza dough",
    "curtain",
    "closet",
    "shoe rack",
    "violin",
    "fruit tart",
]
BENIGN_ADJECTIVES = [
    "",
    "",
    "",
    "simple",
    "healthy",
    "cheap",
    "quick",
    "small",
    "large",
    "old",
    "new",
    "wooden",
    "vegan",
    "colourful",
    "classic",
    "traditional",
    "modern",
    "easy",
    "tiny",
    "rustic",
    "cosy",
    "sturdy",
    "elegant",
    "homemade",
]
BENIGN_CONTEXTS = [
    "",
    "",
    "",
    "at home",
    "for beginners",
    "in a small kitchen",
    "on a tight budget",
    "from scratch",
    "with my kids",
    "in under an hour",
    "before the weekend",
    "for a school project",
    "in winter",
    "without special tools",
    "in a small flat",
    "for a party",
    "as a hobby",
    "with leftovers",
    "for my grandmother",
    "in the garden",
    "on a rainy day",
    "with a friend",
    "for a first date",
    "while travelling",
    "for a charity event",
]
TEMPLATES = [
    "How do I {q}?",
    "How can I {q}?",
    "how to {q}",
    "Explain how to {q}.",
    "Tell me how to {q}.",
    "Give me detailed steps to {q}.",
    "Please explain in detail how I could {q}.",
    "What is the best way to {q}?",
    "Can you help me {q}?",
    "Write a step by step guide to {q}.",
    "I want to {q}. What should I do?",
    "Describe how someone would {q}.",
]
JUNK_TEXTS = ["???", "...", "!!!", "- - -", "What should I do?", "Tell me more.", "How?", "Why?", "Please?", "?!"]
HARMFUL_SHARE = 0.65
INTENTS_PER_ROW = 0.3


def _fullwidth(word: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)


def _variant(text: str, kind: int) -> str:
    """A case / punctuation / whitespace / Unicode-width variant: same norm_key after NFKC + lower."""
    first, _, rest = text.partition(" ")
    return [
        lambda: text.upper(),
        lambda: text.lower(),
        lambda: text.title(),
        lambda: text.rstrip("?.!"),
        lambda: text.rstrip("?.!") + "!!",
        lambda: text.rstrip("?.!") + "???",
        lambda: "  " + text + "  ",
        lambda: text.replace(" ", "  "),
        lambda: text.replace(" ", "\t", 1),
        lambda: text.replace(" ", " - ", 1),
        lambda: _fullwidth(first) + " " + rest,
        lambda: text.replace(" ", "\u00a0"),
        lambda: first + ", " + rest,
        lambda: '"' + text + '"',
        lambda: text.replace(" ", "\n", 1),
        lambda: "..." + text,
    ][kind]()


def generate(path: Path, rows: int, seed: int) -> dict:
    """Write `rows` JSONL records {text, label, category} and return what was generated.

    ~80% original rows (a distinct intent x template x plural-form phrasing each; intents are drawn with
    replacement, so an intent recurs in several phrasings: a near-duplicate group), ~10% exact copies of an earlier
    row (1% of copies of a harmful row
    relabelled benign: a label conflict), ~10% case/punctuation/whitespace/width variants of an
    earlier original, and a few junk rows (punctuation only, or stop words only).
    """
    rng = random.Random(seed)
    n_intents = max(10, int(rows * INTENTS_PER_ROW))
    harm_cats = list(HARM_VOCAB)
    intents: list[tuple[str, str, str]] = []  # (label, category, phrase)
    seen: set[str] = set()
    while len(intents) < n_intents:
        if rng.random() < HARMFUL_SHARE:
            cat = rng.choice(harm_cats)
            verbs, objects = HARM_VOCAB[cat]
            parts = (rng.choice(verbs), rng.choice(HARM_ADJECTIVES), rng.choice(objects), rng.choice(HARM_CONTEXTS))
            label = "harmful"
        else:
            cat = "benign"
            parts = (
                rng.choice(BENIGN_VERBS),
                rng.choice(BENIGN_ADJECTIVES),
                rng.choice(BENIGN_OBJECTS),
                rng.choice(BENIGN_CONTEXTS),
            )
            label = "benign"
        key = "|".join(parts)
        if key in seen:
            continue
        seen.add(key)
        intents.append((label, cat, key))
    del seen
    originals: list[int] = []
    used: set[tuple[int, int, bool]] = set()
    texts: list[str] = []
    labels: list[str] = []
    cats: list[str] = []
    counts = {"original": 0, "exact_copy": 0, "variant": 0, "junk": 0, "label_conflict_copy": 0}
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(rows):
            r = rng.random()
            if r < 0.0002:
                text, label, cat = rng.choice(JUNK_TEXTS), "benign", "benign"
                counts["junk"] += 1
            elif i < 100 or r < 0.80:
                while True:  # a phrasing not used before, so exact duplicates come only from the copies
                    k, t, plural = rng.randrange(n_intents), rng.randrange(len(TEMPLATES)), rng.random() < 0.3
                    if (k, t, plural) not in used:
                        used.add((k, t, plural))
                        break
                label, cat, key = intents[k]
                verb, adj, obj, ctx = key.split("|")
                if plural and not obj.endswith("s"):
                    obj += "s"  # plural: a different norm_key, the same group_key
                q = " ".join(p for p in (verb, adj, obj, ctx) if p)
                text = TEMPLATES[t].format(q=q)
                originals.append(i)
                counts["original"] += 1
            elif r < 0.90:
                j = rng.randrange(i)
                text, label, cat = texts[j], labels[j], cats[j]
                if label == "harmful" and rng.random() < 0.01:
                    label, cat = "benign", "benign"
                    counts["label_conflict_copy"] += 1
                counts["exact_copy"] += 1
            else:
                j = originals[rng.randrange(len(originals))]
                text, label, cat = _variant(texts[j], rng.randrange(16)), labels[j], cats[j]
                counts["variant"] += 1
            texts.append(text)
            labels.append(label)
            cats.append(cat)
            written_label = label
            if rng.random() < 0.01:  # label spelling noise that ingest normalises
                written_label = rng.choice([label.capitalize(), f" {label} ", label.upper()])
            out.write(json.dumps({"text": text, "label": written_label, "category": cat}, ensure_ascii=False))
            out.write("\n")
    return {
        "rows": rows,
        "seed": seed,
        "n_intents": n_intents,
        "n_distinct_texts": len(set(texts)),
        "n_harmful_rows": labels.count("harmful"),
        "bytes": path.stat().st_size,
        **counts,
    }


# ------------------------------------------------------------------------------------------------
# Child side 1: the project's implementation
# ------------------------------------------------------------------------------------------------


def _maxrss_bytes() -> int:
    """This process's peak resident set size so far.

    VmHWM (the high-water mark of this process's own address space) rather than getrusage's ru_maxrss:
    on Linux ru_maxrss carries over the parent's peak across fork + exec, which would charge the parent's
    data generation to whichever side runs in the child.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def run_sinternal(input_path: Path, config: dict, workdir: Path) -> dict:
    import hashlib

    import polars as pl

    from sinternal_assets.prompts.pool import build_pool
    from sinternal_assets.prompts.user_files import UserPromptFile, read_user_file
    from sinternal_assets.sources.spec import load_spec, spec_tables
    from sinternal_assets.storage.warehouse import Warehouse, load_query

    # Prerequisites, as the `safety_spec` asset prepares them (not timed: the spec is an upstream asset).
    spec = load_spec()
    category_ids = spec.category_ids
    tables = spec_tables(spec, datetime.now(UTC).replace(tzinfo=None))
    spec_row, categories = tables["safety_spec"], tables["spec_categories"]
    wh = Warehouse(workdir / "bench.duckdb")
    checks = [(name, config["check_params"].get(name, {})) for name in config["checks"]]
    rss_before = _maxrss_bytes()

    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    raw, _sha = read_user_file(UserPromptFile(path=str(input_path)), category_ids)
    t1 = time.perf_counter()
    stages["ingest_validate_records"] = t1 - t0
    pool, stats = build_pool(
        raw, eval_fraction=config["eval_fraction"], seed=config["seed"], source_priority=config["priority"]
    )
    t2 = time.perf_counter()
    stages["build_pool"] = t2 - t1
    pool = pool.with_columns(pl.lit(spec.spec_hash).alias("spec_hash"))
    wh.write(
        upsert={
            "safety_spec": (spec_row, ["spec_hash"]),
            "spec_categories": (categories, ["spec_hash", "category_id"]),
        }
    )
    wh.write(replace={"prompt_pool": pool})
    t3 = time.perf_counter()
    stages["duckdb_write"] = t3 - t2
    violations = {name: wh.query(name, **params).height for name, params in checks}
    t4 = time.perf_counter()
    stages["sql_checks"] = t4 - t3
    total = t4 - t0
    peak = _maxrss_bytes()

    # The same validation without persisting: the baseline never writes its pool anywhere, so the
    # like-for-like comparison runs the same SQL checks on an in-memory DuckDB holding the frame.
    import duckdb

    t5 = time.perf_counter()
    memory = duckdb.connect()
    memory.register("_pool", pool.to_arrow())
    memory.register("_categories", categories.to_arrow())
    memory.execute("CREATE TABLE prompt_pool AS SELECT * FROM _pool")
    memory.execute("CREATE TABLE spec_categories AS SELECT * FROM _categories")
    memory_violations = {
        name: len(memory.execute(load_query(name), params or None).fetchall()) for name, params in checks
    }
    memory.close()
    stages["sql_checks_in_memory"] = time.perf_counter() - t5
    assert memory_violations == violations, (memory_violations, violations)

    digest = hashlib.sha256()
    for row in pool.select(DIGEST_COLUMNS).sort("prompt_id").iter_rows():
        digest.update(("\t".join(map(str, row)) + "\n").encode("utf-8"))
    splits = pool["split"].value_counts()
    return {
        "side": "sinternal",
        "rows_in": raw.height,
        "rows_out": pool.height,
        "stages_s": stages,
        "total_s": total,
        "total_same_steps_s": stages["ingest_validate_records"]
        + stages["build_pool"]
        + stages["sql_checks_in_memory"],
        "peak_rss_bytes": peak,
        "rss_after_imports_bytes": rss_before,
        "split_counts": dict(zip(splits["split"].to_list(), splits["count"].to_list())),
        "n_harmful_out": int((pool["label"] == "harmful").sum()),
        "stats": stats.as_dict(),
        "violations": violations,
        "digest": digest.hexdigest(),
        "polars_threads": pl.thread_pool_size(),
    }


# ------------------------------------------------------------------------------------------------
# Child side 2: plain pandas, row by row
# ------------------------------------------------------------------------------------------------


def run_baseline(input_path: Path, config: dict) -> dict:
    import hashlib
    import re
    import unicodedata

    import pandas as pd

    stopwords = frozenset(config["stopwords"])
    known = set(config["category_ids"])
    priority = {name: i for i, name in enumerate(config["priority"])}
    eval_fraction, seed = config["eval_fraction"], config["seed"]
    source = f"user:{input_path.stem}"
    punct = re.compile(r"[\W_]+")  # Python's \w is Unicode letters + numbers + '_': so this is [^\p{L}\p{N}]+
    plural = re.compile(r"(\w{3,})s$")

    def norm_key(text: str) -> str:
        return punct.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()

    def group_key(norm: str) -> str:
        words = {plural.sub(r"\1", w, count=1) for w in norm.split(" ") if w and w not in stopwords}
        return " ".join(sorted(words))

    def split_of(key: str) -> str:
        value = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64
        return "eval" if value < eval_fraction else "train"

    rss_before = _maxrss_bytes()
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    # 1. ingest: line by line, json.loads, the same record rules as read_user_file
    records: list[dict] = []
    problems: list[str] = []
    with input_path.open(encoding="utf-8", errors="strict") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: invalid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict) or any(c not in obj for c in ("text", "label", "category")):
                problems.append(f"line {number}: not an object with text, label, category")
                continue
            text = obj["text"]
            if not isinstance(text, str) or not text.strip() or len(text) > config["max_chars"]:
                problems.append(f"line {number}: bad text")
                continue
            label = str(obj["label"]).strip().lower()
            if label not in ("harmful", "benign"):
                problems.append(f"line {number}: bad label {label!r}")
                continue
            raw_category = str(obj["category"]).strip()
            category = raw_category
            if label == "benign":
                category = "benign"
            elif category not in known or category == "benign":
                problems.append(f"line {number}: bad category {raw_category!r}")
                continue
            records.append(
                {
                    "text": text,
                    "label": label,
                    "category": category,
                    "source_category": raw_category,
                    "source_record": f"{input_path.name}:line {number}",
                }
            )
    if problems:
        raise ValueError(f"{len(problems)} problems, first: {problems[:5]}")
    t1 = time.perf_counter()
    stages["ingest_validate_records"] = t1 - t0
    df = pd.DataFrame(records)
    del records
    df["source"] = source
    df["licence"] = "user-supplied"
    n_raw = len(df)
    t2 = time.perf_counter()
    stages["build_dataframe"] = t2 - t1

    # 2. normalise
    df["_order"] = range(len(df))
    df["text"] = df["text"].apply(lambda s: s.strip())
    df["_prio"] = df["source"].apply(lambda s: priority.get(s, len(priority)))
    df["norm_key"] = df["text"].apply(norm_key)
    df = df[df["norm_key"].apply(len) > 0]
    df = df.sort_values(["_prio", "_order"], kind="stable")
    n_exact = len(df) - df["text"].nunique()
    t3 = time.perf_counter()
    stages["normalise"] = t3 - t2

    # 3. dedup: iterate rows, first row per norm_key wins; harmful if any merged record is harmful
    merged: dict[str, dict] = {}
    for _, row in df.iterrows():
        key = row["norm_key"]
        kept = merged.get(key)
        if kept is None:
            kept = merged[key] = {
                c: row[c]
                for c in (
                    "_order",
                    "text",
                    "label",
                    "category",
                    "source_category",
                    "source",
                    "source_record",
                    "licence",
                    "norm_key",
                )
            }
            kept.update(n_merged=0, _labels=set(), _sources=[], _harm_category=None)
        kept["n_merged"] += 1
        kept["_labels"].add(row["label"])
        if row["source"] not in kept["_sources"]:
            kept["_sources"].append(row["source"])
        if row["label"] == "harmful" and kept["_harm_category"] is None:
            kept["_harm_category"] = row["category"]
    n_conflicts = 0
    for kept in merged.values():
        n_conflicts += len(kept["_labels"]) > 1
        if kept["_harm_category"] is not None:
            kept["label"], kept["category"] = "harmful", kept["_harm_category"]
        kept["merged_sources"] = ",".join(kept.pop("_sources"))
        del kept["_labels"], kept["_harm_category"]
    n_after_filter = len(df)
    del df
    pool = pd.DataFrame(list(merged.values()))
    del merged
    t4 = time.perf_counter()
    stages["dedup"] = t4 - t3

    # 4. near-duplicate groups and the split, per row
    pool["group_key"] = pool["norm_key"].apply(group_key)
    pool["group_key"] = pool.apply(lambda r: r["group_key"] or r["norm_key"], axis=1)
    pool["split"] = pool["group_key"].apply(split_of)
    pool["prompt_id"] = pool["text"].apply(lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()[:16])
    pool["n_chars"] = pool["text"].apply(len)
    pool = pool.sort_values("_order", kind="stable")[list(DIGEST_COLUMNS)].reset_index(drop=True)
    t5 = time.perf_counter()
    stages["group_split"] = t5 - t4

    # 5. validate the pool, row by row (the same six rules as the SQL checks)
    violations = {name: 0 for name in config["checks"]}
    ids: set[str] = set()
    norms: set[str] = set()
    group_split: dict[str, str] = {}
    per_split: dict[str, list[int]] = {}
    for _, row in pool.iterrows():
        if not row["text"].strip():
            violations["check_prompt_pool_nonempty_text"] += 1
        if row["label"] not in ("harmful", "benign") or (row["label"] == "benign") != (row["category"] == "benign"):
            violations["check_prompt_pool_valid_labels"] += 1
        if row["category"] not in known:
            violations["check_prompt_pool_valid_categories"] += 1
        if row["prompt_id"] in ids or row["norm_key"] in norms:
            violations["check_prompt_pool_unique_ids"] += 1
        ids.add(row["prompt_id"])
        norms.add(row["norm_key"])
        previous = group_split.setdefault(row["group_key"], row["split"])
        if previous != row["split"]:
            violations["check_prompt_pool_no_leakage"] += 1
        counts = per_split.setdefault(row["split"], [0, 0])
        counts[0] += 1
        counts[1] += row["label"] == "harmful"
    bounds = config["check_params"]["check_prompt_pool_class_balance"]
    for n, n_harmful in per_split.values():
        if not bounds["min_harmful"] <= n_harmful / n <= bounds["max_harmful"]:
            violations["check_prompt_pool_class_balance"] += 1
    t6 = time.perf_counter()
    stages["validate_pool"] = t6 - t5
    total = t6 - t0
    peak = _maxrss_bytes()

    digest = hashlib.sha256()
    for row in pool.sort_values("prompt_id").itertuples(index=False):
        digest.update(("\t".join(map(str, row)) + "\n").encode("utf-8"))
    stats = {
        "n_raw": n_raw,
        "n_exact_duplicates": n_exact,
        "n_normalised_duplicates": n_after_filter - len(pool) - n_exact,
        "n_label_conflicts": n_conflicts,
        "n_groups": len(group_split),
    }
    return {
        "side": "baseline",
        "rows_in": n_raw,
        "rows_out": len(pool),
        "stages_s": stages,
        "total_s": total,
        "peak_rss_bytes": peak,
        "rss_after_imports_bytes": rss_before,
        "split_counts": {k: v[0] for k, v in per_split.items()},
        "n_harmful_out": int((pool["label"] == "harmful").sum()),
        "stats": stats,
        "violations": violations,
        "digest": digest.hexdigest(),
    }


# ------------------------------------------------------------------------------------------------
# Parent: generate, run both children, compare, report
# ------------------------------------------------------------------------------------------------


def machine() -> dict:
    import duckdb
    import pandas
    import polars

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "duckdb": duckdb.__version__,
    }


def child_config() -> dict:
    from dagster_project.resources import QualityGatesResource
    from sinternal_assets.prompts.normalize import STOPWORDS
    from sinternal_assets.prompts.sources import BUILTIN_SOURCES
    from sinternal_assets.sources.spec import load_spec

    gates = QualityGatesResource()
    return {
        "eval_fraction": EVAL_FRACTION,
        "seed": SPLIT_SEED,
        "priority": [s.name for s in BUILTIN_SOURCES],  # as the prompt_pool asset passes it
        "stopwords": sorted(STOPWORDS),
        "category_ids": load_spec().category_ids,
        "max_chars": 20_000,  # UserPromptFile.max_chars default
        "checks": [
            "check_prompt_pool_nonempty_text",
            "check_prompt_pool_valid_labels",
            "check_prompt_pool_valid_categories",
            "check_prompt_pool_unique_ids",
            "check_prompt_pool_no_leakage",
            "check_prompt_pool_class_balance",
        ],
        "check_params": {
            "check_prompt_pool_class_balance": {
                "min_harmful": gates.min_harmful_share,
                "max_harmful": gates.max_harmful_share,
            }
        },
    }


def run_child(side: str, input_path: Path, config_path: Path, workdir: Path, timeout: float | None) -> dict | None:
    """Run one side in a fresh interpreter; None if it ran past `timeout` (it is then killed)."""
    result_path = workdir / f"result-{side}-{input_path.stem}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        side,
        "--input",
        str(input_path),
        "--config",
        str(config_path),
        "--workdir",
        str(workdir),
        "--result",
        str(result_path),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        print(
            f"  {side}: stopped after {time.perf_counter() - started:.0f}s (over the {timeout:.0f}s limit)", flush=True
        )
        return None
    if proc.returncode != 0:
        raise SystemExit(f"{side} child failed with exit code {proc.returncode}")
    result = json.loads(result_path.read_text())
    result["wall_s_including_startup"] = time.perf_counter() - started
    return result


def compare(a: dict, b: dict) -> dict:
    checks = {
        "rows_in": a["rows_in"] == b["rows_in"],
        "rows_out": a["rows_out"] == b["rows_out"],
        "split_counts": a["split_counts"] == b["split_counts"],
        "stats": a["stats"] == b["stats"],
        "digest": a["digest"] == b["digest"],
        "no_violations": not any(a["violations"].values()) and not any(b["violations"].values()),
    }
    return {"identical": all(checks.values()), **checks}


def _fmt_mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def render_table(result: dict) -> str:
    s, b = result["sinternal"], result["baseline"]
    extrapolated = result["baseline_extrapolated"]
    bs = b["stages_s"]
    scale = result["baseline_scale"]
    bcol = f"pandas baseline ({b['rows_in']:,} rows)"
    lines = [
        f"| stage | sinternal ({s['rows_in']:,} rows) | {bcol} |"
        + (f" baseline x{scale:g} (extrapolated) |" if extrapolated else ""),
        "|---|---:|---:|" + ("---:|" if extrapolated else ""),
    ]

    def row(name: str, sv: float | None, bv: float) -> None:
        cell = f"{sv:.2f}" if sv is not None else "-"
        lines.append(f"| {name} | {cell} | {bv:.2f} |" + (f" {bv * scale:.1f} |" if extrapolated else ""))

    ss = s["stages_s"]
    row(
        "ingest + validate records (read_user_file / json.loads loop + DataFrame)",
        ss["ingest_validate_records"],
        bs["ingest_validate_records"] + bs["build_dataframe"],
    )
    row(
        "normalise + dedup + groups + split (build_pool / apply + iterrows)",
        ss["build_pool"],
        bs["normalise"] + bs["dedup"] + bs["group_split"],
    )
    row(
        "validate pool (DuckDB write + 6 SQL checks / per-row Python checks)",
        ss["duckdb_write"] + ss["sql_checks"],
        bs["validate_pool"],
    )
    row("**total** (with the pool persisted to DuckDB on disk)", s["total_s"], b["total_s"])
    row(
        "validate pool without persisting (same 6 SQL checks, in-memory DuckDB)",
        ss["sql_checks_in_memory"],
        bs["validate_pool"],
    )
    row(
        "**total, same steps as the baseline** (ingest + pool + in-memory validation)",
        s["total_same_steps_s"],
        b["total_s"],
    )
    lines.append(
        f"| peak RSS | {_fmt_mib(s['peak_rss_bytes'])} | {_fmt_mib(b['peak_rss_bytes'])} |"
        + (" (not extrapolated) |" if extrapolated else "")
    )
    lines.append(
        f"| rows in -> rows out | {s['rows_in']:,} -> {s['rows_out']:,} | "
        f"{b['rows_in']:,} -> {b['rows_out']:,} |" + (" |" if extrapolated else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=None,
        help="run the pandas baseline on this many rows and extrapolate linearly (default: --rows)",
    )
    parser.add_argument(
        "--baseline-timeout",
        type=float,
        default=480.0,
        help="seconds; a full-size baseline running longer is stopped and re-run on --fallback-rows",
    )
    parser.add_argument("--fallback-rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20240601, help="data generator seed")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "ingest.json")
    parser.add_argument("--child", choices=["sinternal", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        config = json.loads(args.config.read_text())
        if args.child == "sinternal":
            result = run_sinternal(args.input, config, args.workdir)
        else:
            result = run_baseline(args.input, config)
        args.result.write_text(json.dumps(result))
        return 0

    command = "python benchmarks/bench_ingest.py " + " ".join(sys.argv[1:] if argv is None else argv)
    info = machine()
    print(
        f"machine: {info['cpu_model']}, {info['cpus_usable']} usable / {info['cpu_count']} CPUs, "
        f"{(info['memory_bytes'] or 0) / 2**30:.1f} GiB; python {info['python']}, polars {info['polars']}, "
        f"pandas {info['pandas']}, duckdb {info['duckdb']}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        workdir = Path(tmp)
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(child_config()))

        def make(rows: int) -> tuple[Path, dict]:
            path = workdir / f"prompts_{rows}.jsonl"
            t = time.perf_counter()
            gen = generate(path, rows, args.seed)
            gen["seconds"] = time.perf_counter() - t
            print(
                f"generated {path.name}: {rows:,} rows, {gen['n_distinct_texts']:,} distinct texts, "
                f"{gen['bytes'] / 2**20:.0f} MiB in {gen['seconds']:.1f}s (not timed)",
                flush=True,
            )
            return path, gen

        full_path, full_gen = make(args.rows)
        print(f"sinternal on {args.rows:,} rows ...", flush=True)
        sinternal = run_child("sinternal", full_path, config_path, workdir, None)
        print(f"  total {sinternal['total_s']:.2f}s, peak RSS {_fmt_mib(sinternal['peak_rss_bytes'])}", flush=True)

        baseline_rows = args.baseline_rows or args.rows
        baseline = sinternal_small = None
        small_gen = None
        if baseline_rows >= args.rows:
            print(f"pandas baseline on {args.rows:,} rows (limit {args.baseline_timeout:.0f}s) ...", flush=True)
            baseline = run_child("baseline", full_path, config_path, workdir, args.baseline_timeout)
            if baseline is None:
                baseline_rows = args.fallback_rows
        if baseline is None:
            small_path, small_gen = make(baseline_rows)
            print(f"sinternal on {baseline_rows:,} rows (for the equality check) ...", flush=True)
            sinternal_small = run_child("sinternal", small_path, config_path, workdir, None)
            print(f"pandas baseline on {baseline_rows:,} rows ...", flush=True)
            baseline = run_child("baseline", small_path, config_path, workdir, None)
        print(f"  total {baseline['total_s']:.2f}s, peak RSS {_fmt_mib(baseline['peak_rss_bytes'])}", flush=True)

    reference = sinternal_small or sinternal
    equality = compare(reference, baseline)
    extrapolated = baseline["rows_in"] != sinternal["rows_in"]
    scale = sinternal["rows_in"] / baseline["rows_in"]
    baseline_full_s = baseline["total_s"] * scale
    speedup = baseline_full_s / sinternal["total_s"]
    result = {
        "command": command,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "data": full_gen,
        "baseline_data": small_gen,
        "sinternal": sinternal,
        "sinternal_at_baseline_rows": sinternal_small,
        "baseline": baseline,
        "baseline_extrapolated": extrapolated,
        "baseline_scale": scale,
        "baseline_total_s_at_full_rows": baseline_full_s,
        "speedup": speedup,
        "speedup_same_rows": (baseline["total_s"] / sinternal_small["total_s"]) if sinternal_small else speedup,
        "equality": equality,
        "speedup_same_steps": baseline_full_s / sinternal["total_same_steps_s"],
        "targets": {
            "speedup_ge_10x": speedup >= 10,
            "speedup_same_steps_ge_10x": baseline_full_s / sinternal["total_same_steps_s"] >= 10,
            "sinternal_total_lt_60s": sinternal["total_s"] < 60,
        },
    }
    print()
    print(render_table(result))
    print()
    print(
        f"speed-up: {speedup:.1f}x"
        + (
            f" (baseline extrapolated x{scale:g} from {baseline['rows_in']:,} rows; "
            f"{result['speedup_same_rows']:.1f}x at equal size)"
            if extrapolated
            else ""
        )
    )
    print(f"speed-up, same steps as the baseline (no persistence): {result['speedup_same_steps']:.1f}x")
    print(
        f"targets: >=10x with persistence {'met' if result['targets']['speedup_ge_10x'] else 'MISSED'}, "
        f">=10x same steps {'met' if result['targets']['speedup_same_steps_ge_10x'] else 'MISSED'}, "
        f"<60s {'met' if result['targets']['sinternal_total_lt_60s'] else 'MISSED'}"
    )
    print(f"same pool on both sides: {equality}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0 if equality["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
