"""User-supplied prompt files (CSV, JSONL, Parquet) joining the pool through a column mapping.

Every problem is reported with the file and the line (or record) it is on; all problems of a file are
collected (up to a limit) so a user fixes them in one pass. Nothing is written anywhere from here.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sinternal_assets.hashing import sha256_bytes
from sinternal_assets.sources.spec import BENIGN

LABELS = ("harmful", "benign")
MAX_ERRORS_SHOWN = 20


class UserInputError(ValueError):
    """A user file is malformed. `problems` lists each problem with its location."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        shown = problems[:MAX_ERRORS_SHOWN]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(f"{path}: {len(problems)} problem(s) in user prompt file:\n  " + "\n  ".join(shown) + more)


@dataclass(frozen=True)
class UserPromptFile:
    """How to read one user file. Either a column or a fixed value gives each row's label and category."""

    path: str
    source: str = ""
    text_column: str = "text"
    label_column: str | None = "label"
    label: str | None = None
    category_column: str | None = "category"
    category: str | None = None
    category_map: dict[str, str] = field(default_factory=dict)
    licence: str = "user-supplied"
    format: str | None = None  # csv | jsonl | parquet; by default from the extension
    max_chars: int = 20_000

    @property
    def source_name(self) -> str:
        return self.source or f"user:{Path(self.path).stem}"

    @property
    def file_format(self) -> str:
        if self.format:
            return self.format.lower()
        suffix = Path(self.path).suffix.lower()
        return {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}.get(suffix, suffix)


def _decode_utf8(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserInputError(path, [f"line {line}: invalid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"]) from exc


def _records(spec: UserPromptFile, path: Path, data: bytes) -> tuple[list[tuple[str, dict]], list[str]]:
    """(location, record) pairs, and any structural problems."""
    fmt = spec.file_format
    problems: list[str] = []
    records: list[tuple[str, dict]] = []
    needed = [c for c in (spec.text_column, spec.label_column, spec.category_column) if c]
    if fmt == "jsonl":
        text = _decode_utf8(path, data)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {number}: expected a JSON object, got {type(obj).__name__}")
                continue
            missing = [c for c in needed if c not in obj]
            if missing:
                problems.append(f"line {number}: missing column(s) {missing}")
                continue
            records.append((f"line {number}", obj))
    elif fmt == "csv":
        text = _decode_utf8(path, data)
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [c for c in needed if c not in header]
        if missing:
            return [], [f"header: missing column(s) {missing}; the file has {header}"]
        try:
            for row in reader:
                records.append((f"line {reader.line_num}", row))
        except csv.Error as exc:
            problems.append(f"line {reader.line_num}: malformed CSV ({exc})")
    elif fmt == "parquet":
        try:
            frame = pl.read_parquet(io.BytesIO(data))
        except Exception as exc:  # polars raises several error types for a bad file
            return [], [f"not a readable Parquet file ({exc})"]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            return [], [f"missing column(s) {missing}; the file has {frame.columns}"]
        for i, row in enumerate(frame.iter_rows(named=True)):
            records.append((f"record {i}", row))
    else:
        return [], [f"unsupported format {fmt!r}: use .csv, .jsonl or .parquet (or set `format`)"]
    return records, problems


def read_user_file(spec: UserPromptFile, spec_category_ids: list[str]) -> tuple[pl.DataFrame, str]:
    """Validated rows (text, label, category, source_category, source_record, source, licence) and the file's sha256.

    A vectorised polars pass reads and validates well-formed files; if it meets anything it cannot
    accept, the record-by-record pass runs instead and reports every problem with its line.
    """
    path = Path(spec.path)
    if not path.is_file():
        raise UserInputError(path, ["file not found"])
    data = path.read_bytes()
    digest = sha256_bytes(data)
    frame = _read_vectorised(spec, path, data, spec_category_ids)
    if frame is None:
        frame = _read_record_by_record(spec, path, data, spec_category_ids)
    return frame.with_columns(pl.lit(spec.source_name).alias("source"), pl.lit(spec.licence).alias("licence")), digest


def _read_vectorised(spec: UserPromptFile, path: Path, data: bytes, spec_category_ids: list[str]) -> pl.DataFrame | None:
    """The fast path: None when the file needs the precise record-by-record pass (malformed, or any bad row)."""
    fmt = spec.file_format
    try:
        if fmt != "parquet":
            _decode_utf8(path, data)  # strict UTF-8 check; raises UserInputError
        if fmt == "jsonl":
            frame = pl.read_ndjson(io.BytesIO(data))
            where = pl.format("line {}", pl.int_range(1, pl.len() + 1))
            if data.count(b"\n") + (not data.endswith(b"\n")) != frame.height:
                return None  # blank lines: line numbers would not match record positions
        elif fmt == "csv":
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
            if b'"' in data:
                return None  # quoted fields may span lines: let the csv module number them
            where = pl.format("line {}", pl.int_range(2, pl.len() + 2))
        elif fmt == "parquet":
            frame = pl.read_parquet(io.BytesIO(data))
            where = pl.format("record {}", pl.int_range(0, pl.len()))
        else:
            return None
    except (UserInputError, pl.exceptions.PolarsError, ValueError, OSError):
        return None
    if frame.is_empty():
        return None
    columns = {spec.text_column: "text"}
    if spec.label_column:
        columns[spec.label_column] = "label"
    if spec.category_column:
        columns[spec.category_column] = "category"
    if any(c not in frame.columns for c in columns) or frame.schema[spec.text_column] != pl.String:
        return None
    known = set(spec_category_ids) - {BENIGN}
    frame = frame.select(
        pl.col(spec.text_column).alias("text"),
        (pl.col(spec.label_column).cast(pl.String) if spec.label_column else pl.lit(spec.label)).str.strip_chars().str.to_lowercase().alias("label"),
        (pl.col(spec.category_column).cast(pl.String) if spec.category_column else pl.lit(spec.category or "")).str.strip_chars().alias("source_category"),
        where.alias("where"),
    ).with_columns(pl.col("source_category").replace(spec.category_map).alias("category"))
    ok = (
        pl.col("text").is_not_null()
        & (pl.col("text").str.strip_chars().str.len_chars() > 0)
        & (pl.col("text").str.len_chars() <= spec.max_chars)
        & pl.col("label").is_in(LABELS)
        & ((pl.col("label") == "benign") | pl.col("category").is_in(list(known)))
    )
    if not frame.select(ok.all()).item():
        return None
    return frame.select(
        "text", "label",
        pl.when(pl.col("label") == "benign").then(pl.lit(BENIGN)).otherwise(pl.col("category")).alias("category"),
        pl.col("source_category").fill_null(""),
        pl.concat_str(pl.lit(f"{path.name}:"), pl.col("where")).alias("source_record"),
    )


def _read_record_by_record(spec: UserPromptFile, path: Path, data: bytes, spec_category_ids: list[str]) -> pl.DataFrame:
    known = set(spec_category_ids)
    records, problems = _records(spec, path, data)
    rows: list[dict[str, str]] = []
    for where, record in records:
        text = record.get(spec.text_column)
        if not isinstance(text, str):
            problems.append(f"{where}: {spec.text_column!r} must be text, got {type(text).__name__}")
            continue
        if not text.strip():
            problems.append(f"{where}: empty text in column {spec.text_column!r}")
            continue
        if len(text) > spec.max_chars:
            problems.append(f"{where}: text is {len(text):,} characters, over the limit of {spec.max_chars:,}")
            continue
        label = str(record.get(spec.label_column) if spec.label_column else spec.label or "").strip().lower()
        if label not in LABELS:
            problems.append(f"{where}: label {label!r} is not one of {list(LABELS)}")
            continue
        raw_category = str(record.get(spec.category_column) if spec.category_column else spec.category or "").strip()
        category = spec.category_map.get(raw_category, raw_category)
        if label == "benign":
            category = BENIGN
        elif category not in known or category == BENIGN:
            problems.append(
                f"{where}: unknown category {raw_category!r} for a harmful prompt; use one of the spec's "
                f"categories {sorted(known - {BENIGN})} or map it with `category_map`"
            )
            continue
        rows.append({"text": text, "label": label, "category": category, "source_category": raw_category,
                     "source_record": f"{path.name}:{where}"})
    if problems:
        raise UserInputError(path, problems)
    if not rows:
        raise UserInputError(path, ["no prompts in file"])
    return pl.DataFrame(rows, schema={c: pl.String for c in ("text", "label", "category", "source_category", "source_record")})
