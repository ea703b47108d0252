"""Every bad input named: each malformed user prompt file or inbox sidecar fails with the file, the line (or key)
and all of the file's problems at once, and nothing is written. Files are written byte for byte."""

import ast
import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sinternal_assets.prompts.inbox import InboxError, inbox_specs
from sinternal_assets.prompts.user_files import (
    UserInputError,
    UserPromptFile,
    read_record_by_record,
    read_user_file,
    read_vectorised,
)

BOM = b"\xef\xbb\xbf"
HEADER = b"text,label,category\n"
OK_CSV = b"How do seatbelts work?,benign,anything\n"
OK = {"text": "How do seatbelts work?", "label": "benign", "category": "anything"}
BAD_LABEL = {"text": "Is this fine?", "label": "maybe", "category": "cbrn"}


def jsonl(*rows) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in rows)


def put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def problems_of(path, spec, **kwargs) -> list[str]:
    """The problems reading `path` reports; the message names the file, and the folder is left as it was."""
    before = sorted((p, p.stat().st_size) for p in path.parent.iterdir() if p.is_file())
    with pytest.raises(UserInputError) as info:
        read_user_file(UserPromptFile(path=str(path), **kwargs), spec.category_ids)
    assert str(path) in str(info.value)
    assert sorted((p, p.stat().st_size) for p in path.parent.iterdir() if p.is_file()) == before  # nothing written
    return info.value.problems


def both_paths(path, spec):
    cfg = UserPromptFile(path=str(path))
    fast = read_vectorised(cfg, path, path.read_bytes(), spec.category_ids)
    slow = read_record_by_record(cfg, path, path.read_bytes(), spec.category_ids)
    return fast, slow


# -- byte order mark ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,body", [("b.csv", HEADER + OK_CSV), ("b.jsonl", jsonl(OK))])
def test_bom_is_skipped_by_both_reading_paths(tmp_path, spec, name, body):
    path = put(tmp_path / name, BOM + body)
    fast, slow = both_paths(path, spec)
    assert slow["text"].to_list() == ["How do seatbelts work?"]
    assert fast is not None and fast.equals(slow)
    frame, digest = read_user_file(UserPromptFile(path=str(path)), spec.category_ids)
    assert frame["source_record"].to_list() == [f"{name}:line {2 if name.endswith('csv') else 1}"]
    assert digest == hashlib.sha256(BOM + body).hexdigest()  # the file as it is, BOM included


def test_bom_with_another_problem_reports_that_problem(tmp_path, spec):
    csv_problems = problems_of(put(tmp_path / "b.csv", BOM + HEADER + OK_CSV + b"Is this fine?,maybe,cbrn\n"), spec)
    jsonl_problems = problems_of(put(tmp_path / "b.jsonl", BOM + jsonl(OK, BAD_LABEL)), spec)
    assert csv_problems == ["line 3: label 'maybe' is not one of ['harmful', 'benign']"]
    assert jsonl_problems == ["line 2: label 'maybe' is not one of ['harmful', 'benign']"]


# -- JSONL line splitting ----------------------------------------------------------------------------------------


def test_u2028_and_u0085_inside_a_jsonl_string_neither_split_the_record_nor_shift_line_numbers(tmp_path, spec):
    rows = [dict(OK, text="first\u2028line"), dict(OK, text="next\x85line"), BAD_LABEL, dict(OK, text="end")]
    problems = problems_of(put(tmp_path / "s.jsonl", jsonl(*rows)), spec)
    assert problems == ["line 3: label 'maybe' is not one of ['harmful', 'benign']"]
    good = put(tmp_path / "g.jsonl", jsonl(rows[0], rows[1]))
    fast, slow = both_paths(good, spec)
    assert slow["text"].to_list() == ["first\u2028line", "next\x85line"]
    assert fast is not None and fast.equals(slow)


def test_crlf_jsonl_is_split_on_newlines(tmp_path, spec):
    body = jsonl(OK, OK, BAD_LABEL).replace(b"\n", b"\r\n")
    assert problems_of(put(tmp_path / "w.jsonl", body), spec) == [
        "line 3: label 'maybe' is not one of ['harmful', 'benign']"
    ]
    fast, slow = both_paths(put(tmp_path / "g.jsonl", jsonl(OK).replace(b"\n", b"\r\n")), spec)
    assert slow["text"].to_list() == ["How do seatbelts work?"]
    assert fast is not None and fast.equals(slow)


# -- NUL bytes ---------------------------------------------------------------------------------------------------


def test_nul_byte_in_csv_names_the_line_and_column(tmp_path, spec):
    csv_problems = problems_of(put(tmp_path / "n.csv", HEADER + OK_CSV + b"How do\x00 locks work?,benign,x\n"), spec)
    assert csv_problems == ["line 3: NUL byte (0x00) in the field of column 'text'"]


def test_nul_byte_in_jsonl_names_the_line_and_offset(tmp_path, spec):
    body = jsonl(OK) + b'{"text": "a\x00b", "label": "benign", "category": "x"}\n' + jsonl(BAD_LABEL)
    jsonl_problems = problems_of(put(tmp_path / "n.jsonl", body), spec)
    assert jsonl_problems[0] == f"line 2: NUL byte (0x00) at offset {len(jsonl(OK)) + 11}"
    assert jsonl_problems[1].startswith("line 3: label 'maybe'") and len(jsonl_problems) == 2


# -- CSV structure -----------------------------------------------------------------------------------------------


def test_csv_row_with_more_fields_than_the_header_names_the_line(tmp_path, spec):
    body = HEADER + OK_CSV + b"Hello, how are you?,benign,x\n"
    assert problems_of(put(tmp_path / "f.csv", body), spec) == [
        "line 3: 4 fields, but the header has 3 (text, label, category); quote any value that contains a comma"
    ]


def test_duplicated_header_name(tmp_path, spec):
    body = b"text,label,category,label\nHow do seatbelts work?,benign,x,harmful\n"
    problems = problems_of(put(tmp_path / "d.csv", body), spec)
    assert problems == [
        "line 1 (header): column name(s) ['label'] appear more than once; every column needs its own name"
    ]


def test_field_over_the_csv_size_limit_names_the_line_and_limit_and_reading_goes_on(tmp_path, spec):
    limit = csv.field_size_limit()
    huge = b"x" * (limit + 10)
    body = HEADER + OK_CSV + huge + b",harmful,cbrn\n" + b"Is this fine?,maybe,cbrn\n"
    problems = problems_of(put(tmp_path / "h.csv", body), spec)
    assert problems == [
        f"line 3: a field is longer than the CSV reader's limit of {limit:,} characters (csv.field_size_limit)",
        "line 4: label 'maybe' is not one of ['harmful', 'benign']",
    ]
    # the same in a quoted field over several lines: the rest of that field is skipped, the lines stay right
    quoted = HEADER + b'"' + huge + b'\nmore\nand more",harmful,cbrn\n' + b"Is this fine?,maybe,cbrn\n"
    assert problems_of(put(tmp_path / "q.csv", quoted), spec) == [
        problems[0].replace("line 3", "line 2"),
        problems[1].replace("line 4", "line 5"),
    ]
    # in the header too (this used to escape as a bare csv.Error)
    assert problems_of(put(tmp_path / "hh.csv", huge + b",label,category\n" + OK_CSV), spec) == [
        problems[0].replace("line 3", "line 1")
    ]


def test_multi_line_quoted_csv_record_is_named_by_its_first_line(tmp_path, spec):
    body = HEADER + OK_CSV + b'"Is this\nfine?\nReally?",maybe,cbrn\n' + b"Next?,neither,cbrn\n"
    assert problems_of(put(tmp_path / "m.csv", body), spec) == [
        "line 3: label 'maybe' is not one of ['harmful', 'benign']",
        "line 6: label 'neither' is not one of ['harmful', 'benign']",
    ]
    good = put(tmp_path / "g.csv", HEADER + b'"Two\nlines",benign,x\n' + OK_CSV)
    frame, _ = read_user_file(UserPromptFile(path=str(good)), spec.category_ids)
    assert frame["source_record"].to_list() == ["g.csv:line 2", "g.csv:line 4"]


def test_unclosed_quote_names_the_line_it_opens_on(tmp_path, spec):
    body = HEADER + OK_CSV + b'"Is this fine?,benign,x\n' + OK_CSV + OK_CSV
    assert problems_of(put(tmp_path / "u.csv", body), spec) == [
        "line 3: a quoted field that starts in this record is never closed (it runs to the end of the file)"
    ]


def test_all_problems_of_a_csv_file_at_once(tmp_path, spec):
    body = b"text,label,category,text\n" + b"a,b,c,d,e\n" + b"\xff,benign,x,y\n" + b"x\x00,benign,x,y\n"
    problems = problems_of(put(tmp_path / "all.csv", body), spec)
    assert problems == [
        "line 3: invalid UTF-8 (byte 0xff at offset 35)",
        "line 1 (header): column name(s) ['text'] appear more than once; every column needs its own name",
        "line 2: 5 fields, but the header has 4 (text, label, category, text); quote any value that contains a comma",
        "line 4: NUL byte (0x00) in the field of column 'text'",
    ]


def test_all_invalid_utf8_lines_of_a_jsonl_file_at_once(tmp_path, spec):
    body = jsonl(OK) + b'{"text": "caf\xe9"}\n' + jsonl(OK) + b'{"text": "\xff"}\n'
    problems = problems_of(put(tmp_path / "u.jsonl", body), spec)
    assert [p.split(" (")[0] for p in problems] == ["line 2: invalid UTF-8", "line 4: invalid UTF-8"]


# -- what is at the path -----------------------------------------------------------------------------------------


def test_directory_is_named_as_such(tmp_path, spec):
    folder = tmp_path / "prompts.csv"
    folder.mkdir()
    assert problems_of(folder, spec) == ["is a directory, not a file: name a CSV, JSONL or Parquet file"]


def test_broken_symlink_is_named_as_such(tmp_path, spec):
    link = tmp_path / "gone.jsonl"
    link.symlink_to(tmp_path / "deleted.jsonl")
    assert problems_of(link, spec) == [
        f"broken symbolic link: it points to {str(tmp_path / 'deleted.jsonl')!r}, which does not exist"
    ]
    assert problems_of(tmp_path / "nope.jsonl", spec) == ["file not found"]  # a plain missing file: as before


def test_named_pipe_is_refused_without_opening_it(tmp_path, spec):
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    assert problems_of(pipe, spec) == ["is not a regular file (a pipe, socket or device); copy its data into a file"]


# Root reads any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). To meet a real unreadable file as root, a child
# process drops both from its capability bounding set and re-executes Python, which then runs without them.
DROP_AND_EXEC = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2
if any(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)):
    print("cannot drop capabilities", os.strerror(ctypes.get_errno()))
    sys.exit(0)
os.execv(sys.executable, [sys.executable, "-c", sys.argv[1], sys.argv[2]])
"""
READ = """
import sys
from sinternal_assets.prompts.user_files import UserInputError, UserPromptFile, read_user_file
try:
    read_user_file(UserPromptFile(path=sys.argv[1]), [])
    print("read it")
except UserInputError as exc:
    print("UserInputError", exc.problems)
"""


def test_unreadable_file_says_permission_denied(tmp_path):
    """The real read of a mode-000 file, no mock: in this process when it cannot read the file (not root);
    as root, in a child process without the capabilities that let root read any file."""
    path = put(tmp_path / "secret.jsonl", jsonl(OK))
    path.chmod(0o000)
    try:
        path.open("rb").close()
        privileged = True
    except PermissionError:
        privileged = False
    if not privileged:
        with pytest.raises(UserInputError) as info:
            read_user_file(UserPromptFile(path=str(path)), [])
        assert str(path) in str(info.value)
        problems = info.value.problems
    else:
        child = subprocess.run(
            [sys.executable, "-c", DROP_AND_EXEC, READ, str(path)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[2],
            timeout=120,
        )
        if child.stdout.startswith("cannot drop capabilities"):
            pytest.skip(f"privileged, and {child.stdout.strip()}: cannot meet an unreadable file")
        assert child.stdout.startswith("UserInputError"), child.stdout + child.stderr
        problems = ast.literal_eval(child.stdout.removeprefix("UserInputError").strip())
    uid = os.geteuid()
    assert problems == [f"permission denied: this user (uid {uid}) may not read it (----------, owner uid {uid})"]


# -- inbox sidecars ----------------------------------------------------------------------------------------------


def inbox_with(tmp_path, sidecar: bytes) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    put(inbox / "p.csv", HEADER + OK_CSV)
    put(inbox / "p.csv.yaml", sidecar)
    return inbox


def test_sidecar_value_of_the_wrong_type_names_file_key_expected_and_got(tmp_path):
    inbox = inbox_with(tmp_path, b"max_chars: 20k\n")
    with pytest.raises(InboxError) as info:
        inbox_specs(inbox)
    assert str(info.value) == f"{inbox / 'p.csv.yaml'}: key 'max_chars': expected an integer, got str ('20k')"


def test_every_problem_of_a_sidecar_at_once(tmp_path):
    body = b"text_colum: prompt\nlabel_column: 5\nlabel: yes\ncategory_map: {1: cbrn}\nmax_chars: true\n"
    with pytest.raises(InboxError) as info:
        inbox_specs(inbox_with(tmp_path, body))
    sidecar = tmp_path / "inbox" / "p.csv.yaml"
    assert info.value.path == sidecar
    assert info.value.problems[0].startswith("unknown key(s) ['text_colum']; allowed: ")
    assert info.value.problems[1:] == [
        "key 'label_column': expected text or null, got int (5)",
        "key 'label': expected text or null, got bool (True); YAML reads an unquoted yes/no/on/off/true/false "
        "as a boolean: quote it",
        "key 'category_map': expected a mapping of text to text, got a mapping with int key 1 to str value 'cbrn'",
        "key 'max_chars': expected an integer, got bool (True); YAML reads an unquoted yes/no/on/off/true/false "
        "as a boolean",
    ]
    assert all(line.startswith(f"{sidecar}: ") for line in str(info.value).splitlines())


def test_sidecar_that_is_not_utf8_names_the_file(tmp_path):
    with pytest.raises(InboxError) as info:
        inbox_specs(inbox_with(tmp_path, b"licence: caf\xe9\n"))
    assert str(info.value) == f"{tmp_path / 'inbox' / 'p.csv.yaml'}: not UTF-8 text (byte 0xe9 at offset 12)"


def test_good_sidecar_still_maps_the_columns(tmp_path):
    specs = inbox_specs(inbox_with(tmp_path, b"label: benign\nlabel_column: null\nmax_chars: 500\n"))
    assert (specs[0].label, specs[0].label_column, specs[0].max_chars, specs[0].source) == (
        "benign",
        None,
        500,
        "inbox:p",
    )
