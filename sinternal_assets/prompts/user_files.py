"""User-supplied prompt files (CSV, JSONL, Parquet) joining the pool through a column mapping.

Every problem is reported with the file and the line (or record) it is on; all problems of a file are
collected (up to a limit) so a user fixes them in one pass. Nothing is written anywhere from here.

CSV and JSONL files are UTF-8; a BOM at the start is skipped (by both reading paths). JSONL records are split on
"\n" only, so a U+2028 or U+0085 inside a string neither splits a record nor shifts the line numbers after it;
a CSV record is named by its first line. The file is read once into bytes and then decoded and parsed a line
(or a block) at a time: no decoded copy of the whole file, no list of all its lines or records.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sinternal_assets.hashing import sha256_bytes
from sinternal_assets.sources.spec import BENIGN

LABELS = ("harmful", "benign")
ROW_COLUMNS = ("text", "label", "category", "source_category", "source_record")
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


BOM = b"\xef\xbb\xbf"  # accepted (and skipped) at the start of a CSV or JSONL file, in both reading paths
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
NEWLINE, NUL = b"\n", b"\x00"
UTF8_CHUNK = 1 << 20


def _utf8_problems(data: bytes) -> Iterator[str]:
    """One problem per line with invalid UTF-8. Decodes about a megabyte at a time, cut at a line end (a
    newline byte is never inside a UTF-8 sequence), so the whole file is never held as text."""
    view, start, line = memoryview(data), 0, 1
    while start < len(data):
        cut = data.find(NEWLINE, min(start + UTF8_CHUNK, len(data)))
        end = len(data) if cut < 0 else cut + 1
        try:
            str(view[start:end], "utf-8")
        except UnicodeDecodeError as exc:
            at = start + exc.start
            yield f"line {line + data.count(NEWLINE, start, at)}: invalid UTF-8 (byte 0x{data[at]:02x} at offset {at})"
            end = data.find(NEWLINE, at) + 1 or len(data)  # go on with the next line
        line += data.count(NEWLINE, start, end)
        start = end


def _jsonl_lines(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(line number, offset, bytes) of each line, split on "\n" only ("\r\n" too; not on U+2028 or U+0085,
    which `str.splitlines` would also split on). One line at a time: never a list of all lines."""
    start, number = (len(BOM) if data.startswith(BOM) else 0), 1
    while start < len(data):
        end = data.find(NEWLINE, start)
        end = len(data) if end < 0 else end
        line = data[start:end]
        yield number, start, line[:-1] if line.endswith(b"\r") else line
        start, number = end + 1, number + 1


def _jsonl_records(data: bytes, needed: list[str], problems: list[str]) -> Iterator[tuple[str, dict]]:
    for number, offset, raw in _jsonl_lines(data):
        if not raw.strip():
            continue
        if NUL in raw:
            problems.append(f"line {number}: NUL byte (0x00) at offset {offset + raw.index(NUL)}")
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                f"line {number}: invalid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {offset + exc.start})"
            )
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
        yield f"line {number}", obj


class _CountedLines:
    """The lines of a text stream with their count, and, for the record being read, its quote characters and
    whether it holds a NUL (so that rows need no second look)."""

    def __init__(self, stream: Iterator[str]):
        self.stream, self.count, self.quotes, self.nul, self.exhausted = stream, 0, 0, False, False

    def start_record(self) -> int:
        """The number of the line the next record starts on."""
        self.quotes, self.nul = 0, False
        return self.count + 1

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self.stream)
        except StopIteration:
            self.exhausted = True
            raise
        self.count += 1
        self.quotes += line.count('"')
        self.nul = self.nul or "\x00" in line
        return line

    def skip_open_quote(self) -> bool:
        """After a record failed mid-way: skip the rest of a quoted field it left open (odd number of quotes).
        False when that field is never closed before the end of the file."""
        while self.quotes % 2:
            if next(self, None) is None:
                return False
        return True


def _csv_records(data: bytes, needed: list[str], problems: list[str]) -> Iterator[tuple[str, dict]]:
    """Records named by their FIRST line (a quoted field may span lines). After a bad header, the rows are
    still read for their own problems, but none is returned."""
    problems.extend(_utf8_problems(data))  # then read on with replacement characters to find the rest
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace", newline="")
    lines = _CountedLines(stream)  # decoded a block at a time: the file is never held as one string
    reader = csv.reader(lines)
    header: list[str] | None = None
    usable = False
    while True:
        first = lines.start_record()
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(_csv_error(first, exc, closed=lines.skip_open_quote()))
            header = [] if header is None else header  # a bad header line leaves no usable header
            continue
        if lines.quotes % 2 and lines.exhausted and lines.count > first:
            problems.append(_csv_error(first, None, closed=False))
            header = [] if header is None else header
            continue
        if header is None:
            header = row
            usable = _header_ok(first, header, needed, problems)
            continue
        if not row:
            continue  # a blank line
        nul = next((i for i, value in enumerate(row) if "\x00" in value), None) if lines.nul else None
        if nul is not None:
            name = repr(header[nul]) if nul < len(header) else f"number {nul + 1}"
            problems.append(f"line {first}: NUL byte (0x00) in the field of column {name}")
            continue
        if header and len(row) > len(header):
            problems.append(
                f"line {first}: {len(row)} fields, but the header has {len(header)} ({', '.join(header)}); "
                f"quote any value that contains a comma"
            )
            continue
        if usable:
            yield f"line {first}", dict(zip(header, row))
    if header is None:
        problems.append("line 1 (header): the file is empty; its first line must name the columns")


def _csv_error(first: int, exc: csv.Error | None, closed: bool) -> str:
    if not closed:
        return (
            f"line {first}: a quoted field that starts in this record is never closed (it runs to the end of the file)"
        )
    if "field limit" in str(exc):
        return (
            f"line {first}: a field is longer than the CSV reader's limit of {csv.field_size_limit():,} characters "
            f"(csv.field_size_limit)"
        )
    return f"line {first}: malformed CSV ({exc})"


def _header_ok(line: int, header: list[str], needed: list[str], problems: list[str]) -> bool:
    """Whether rows can be read by the header's names; each problem of the header appended."""
    before = len(problems)
    if any("\x00" in name for name in header):
        problems.append(f"line {line} (header): NUL byte (0x00) in a column name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(
            f"line {line} (header): column name(s) {repeated} appear more than once; every column needs its own name"
        )
    missing = [c for c in needed if c not in header]
    if missing:
        problems.append(f"line {line} (header): missing column(s) {missing}; the file has {header}")
    return len(problems) == before


def _records(spec: UserPromptFile, data: bytes, problems: list[str]) -> Iterator[tuple[str, dict]]:
    """(location, record) pairs, one at a time; structural problems are appended to `problems` as met."""
    fmt = spec.file_format
    needed = [c for c in (spec.text_column, spec.label_column, spec.category_column) if c]
    if fmt in ("csv", "jsonl") and data.startswith(UTF16_BOMS):  # else a NUL byte on every line
        problems.append("line 1: the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8")
    elif fmt == "jsonl":
        yield from _jsonl_records(data, needed, problems)
    elif fmt == "csv":
        yield from _csv_records(data, needed, problems)
    elif fmt == "parquet":
        try:
            frame = pl.read_parquet(io.BytesIO(data))
        except Exception as exc:  # polars raises several error types for a bad file
            problems.append(f"not a readable Parquet file ({exc})")
            return
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            problems.append(f"missing column(s) {missing}; the file has {frame.columns}")
            return
        for i, row in enumerate(frame.iter_rows(named=True)):
            yield f"record {i}", row
    else:
        problems.append(f"unsupported format {fmt!r}: use .csv, .jsonl or .parquet (or set `format`)")


def _unreadable(path: Path) -> str | None:
    """Why `path` cannot be read as a prompt file (each case its own message), or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"broken symbolic link: it points to {os.readlink(path)!r}, which does not exist"
        return "file not found"
    except PermissionError:
        return "permission denied: a folder on its path cannot be searched by this user"
    except OSError as exc:  # a symbolic link loop, a file where a folder should be, ...
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a directory, not a file: name a CSV, JSONL or Parquet file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, socket or device); copy its data into a file"
    return None


def _read_bytes(path: Path) -> bytes:
    problem = _unreadable(path)
    if problem:
        raise UserInputError(path, [problem])
    try:
        return path.read_bytes()
    except PermissionError as exc:
        info = path.stat()
        raise UserInputError(
            path,
            [
                f"permission denied: this user (uid {os.geteuid()}) may not read it "
                f"({stat.filemode(info.st_mode)}, owner uid {info.st_uid})"
            ],
        ) from exc
    except OSError as exc:
        raise UserInputError(path, [f"cannot be read ({exc.strerror or exc})"]) from exc


def read_user_file(spec: UserPromptFile, spec_category_ids: list[str]) -> tuple[pl.DataFrame, str]:
    """Validated rows (text, label, category, source_category, source_record, source, licence) and the file's sha256.

    A vectorised polars pass reads and validates well-formed files; if it meets anything it cannot
    accept, the record-by-record pass runs instead and reports every problem with its line.
    """
    path = Path(spec.path)
    data = _read_bytes(path)  # the one copy of the file held while reading it
    digest = sha256_bytes(data)
    frame = read_vectorised(spec, path, data, spec_category_ids)
    if frame is None:
        frame = read_record_by_record(spec, path, data, spec_category_ids)
    return frame.with_columns(pl.lit(spec.source_name).alias("source"), pl.lit(spec.licence).alias("licence")), digest


def read_vectorised(
    spec: UserPromptFile, path: Path, data: bytes, spec_category_ids: list[str]
) -> pl.DataFrame | None:
    """The fast path: None when the file needs the precise record-by-record pass (malformed, or any bad row)."""
    fmt = spec.file_format
    if fmt in ("csv", "jsonl") and (NUL in data or next(_utf8_problems(data), None) is not None):
        return None
    try:
        if fmt == "jsonl":
            # polars does not skip a BOM in NDJSON; the slice copies the file, but only a file with a BOM
            frame = pl.read_ndjson(io.BytesIO(data[len(BOM) :] if data.startswith(BOM) else data))
            where = pl.format("line {}", pl.int_range(1, pl.len() + 1))
            if data.count(NEWLINE) + (not data.endswith(NEWLINE)) != frame.height:
                return None  # blank lines: line numbers would not match record positions
        elif fmt == "csv":
            if b'"' in data:
                return None  # quoted fields may span lines: let the csv module number them
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False)  # polars skips a BOM itself
            if frame.columns != _plain_csv_header(data) or _longest_field(frame) > csv.field_size_limit():
                return None  # repeated (renamed) columns, or a field the csv module would refuse
            where = pl.format("line {}", pl.int_range(2, pl.len() + 2))
        elif fmt == "parquet":
            frame = pl.read_parquet(io.BytesIO(data))
            where = pl.format("record {}", pl.int_range(0, pl.len()))
        else:
            return None
    except (pl.exceptions.PolarsError, ValueError, OSError):
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
        (pl.col(spec.label_column).cast(pl.String) if spec.label_column else pl.lit(spec.label))
        .str.strip_chars()
        .str.to_lowercase()
        .alias("label"),
        (pl.col(spec.category_column).cast(pl.String) if spec.category_column else pl.lit(spec.category or ""))
        .str.strip_chars()
        .alias("source_category"),
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
        "text",
        "label",
        pl.when(pl.col("label") == "benign").then(pl.lit(BENIGN)).otherwise(pl.col("category")).alias("category"),
        pl.col("source_category").fill_null(""),
        pl.concat_str(pl.lit(f"{path.name}:"), pl.col("where")).alias("source_record"),
    )


def _plain_csv_header(data: bytes) -> list[str]:
    """The column names of the first line of a CSV file without quotes, as written (polars renames repeats)."""
    end = data.find(NEWLINE)
    line = data[len(BOM) if data.startswith(BOM) else 0 : None if end < 0 else end].decode("utf-8")
    return line.removesuffix("\r").split(",")


def _longest_field(frame: pl.DataFrame) -> int:
    if frame.is_empty() or not frame.columns:
        return 0
    return frame.select(pl.max_horizontal(pl.all().str.len_chars().max())).item() or 0


def read_record_by_record(spec: UserPromptFile, path: Path, data: bytes, spec_category_ids: list[str]) -> pl.DataFrame:
    known = set(spec_category_ids)
    problems: list[str] = []
    rows: dict[str, list[str]] = {c: [] for c in ROW_COLUMNS}  # kept by column, no dict per row
    for where, record in _records(spec, data, problems):  # one record at a time
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
        if not problems:  # once the file has failed, its good rows are no longer kept
            for column, value in zip(ROW_COLUMNS, (text, label, category, raw_category, f"{path.name}:{where}")):
                rows[column].append(value)
    if problems:
        raise UserInputError(path, problems)
    if not rows["text"]:
        raise UserInputError(path, ["no prompts in file"])
    return pl.DataFrame(rows, schema={c: pl.String for c in ROW_COLUMNS})
