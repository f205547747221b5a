"""BCC and libbpf-tools event tables (opensnoop, execsnoop, tcplife, tcpconnect, biosnoop):
detection by header, one stack per row (goldens), the tables a report shows, refusal of other
tables, and rows read independently of the folder's pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldkit.analysis.events import event_tables
from foldkit.cli import main
from foldkit.errors import InputError
from foldkit.ingest import FORMATS, detect, events
from foldkit.inputs import open_source
from tests.support.bpf import fold
from tests.support.common import DATA, assert_golden

EVENTS = DATA / "events"
CAPTURES = sorted(p for p in EVENTS.glob("*.txt"))
TOOL = {p.name: next(t.name for t in events.TOOLS if t.name in p.name) for p in CAPTURES}


def _rows(path: Path) -> int:
    """Rows of a capture: its lines after the header that are not blank (counted apart from the folder)."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    return len(lines) - 1


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_each_table_is_detected_by_its_header_and_no_other_format_claims_it(path: Path) -> None:
    source = open_source(str(path))
    try:
        head = source.head()
        assert [name for name, module in FORMATS.items() if module.sniff(head)] == ["events"]
        assert detect(source).NAME == "events"
    finally:
        source.close()


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_every_row_is_one_event_and_the_golden_holds(path: Path) -> None:
    profile = fold(path)
    assert profile.format == "events"
    assert profile.meta[events.TOOL_KEY] == TOOL[path.name]
    assert not profile.diagnostics.bad_lines, profile.diagnostics.messages()
    assert profile.samples == _rows(path)
    assert_golden(f"events/{path.stem}.folded", profile.to_folded_bytes())


def test_opensnoop_stack_is_comm_status_and_path() -> None:
    profile = fold(EVENTS / "bcc-opensnoop-TUe.txt")
    assert profile.weights["irisdb;ENOENT;/;usr/;irissys/;mgr/;iris.lck"] == 1
    assert profile.weights["irisdb;EACCES;/;etc/;shadow"] == 1
    assert profile.weights["irisdb;ok;/;usr/;irissys/;mgr/;IRIS.DAT"] == 2
    assert profile.weights["V8 WorkerThread;ok;/;proc/;self/;maps"] == 1  # a comm with a space
    assert profile.weights["irisdb;ENOENT;journal/;20261204.001"] == 1  # a relative path
    assert profile.unit == "opens"


def test_path_frames_join_back_to_the_path() -> None:
    for path in ["/etc/passwd", "relative.txt", "a/b/", "/", "/tmp/x;y"]:
        assert events.path_of(events.path_frames(path)) == path.replace(";", ":")


def test_execsnoop_names_the_parent_by_an_earlier_exec_and_marks_failures() -> None:
    profile = fold(EVENTS / "bcc-execsnoop-Tx.txt")
    assert profile.weights["iris;irisdb;/usr/irissys/bin/irisdb"] == 2
    assert profile.weights["bash;iris;/usr/bin/iris"] == 1
    assert profile.weights["iris;iris;/usr/local/bin/python3;ENOENT"] == 1  # RET -2, pre-exec comm
    assert profile.weights["[unknown parent];bash;/bin/bash"] == 1
    assert profile.weights["[unknown parent];cron;/usr/sbin/cron"] == 1  # PPID printed as `?`
    with_pid = fold(EVENTS / "bcc-execsnoop-Tx.txt", pid=True)
    assert "[pid 3990];bash-4100;/bin/bash" in with_pid.weights


def test_tcplife_weighs_bytes_sent_and_received() -> None:
    profile = fold(EVENTS / "bcc-tcplife.txt")
    assert profile.unit == "bytes"
    assert profile.weights["irisdb;10.1.9.30;51234"] == (2048 + 30) * 1024
    assert profile.weights["webgateway;10.1.4.17;1972"] == (12 + 900) * 1024  # BCC cuts COMM to 10
    real = fold(EVENTS / "libbpf-tools-tcplife-T.txt")  # libbpf-tools prints a clock time under TIME(s)
    assert real.total == round((195.31 + 4.88) * 1024) * 2 + round((585.94 + 4.88) * 1024) * 2


def test_biosnoop_weighs_latency_in_microseconds() -> None:
    for name in ("bcc-biosnoop-Q.txt", "libbpf-tools-biosnoop.txt"):
        profile = fold(EVENTS / name)
        assert profile.unit == "us"
        assert profile.total == round((0.41 + 1.93 + 0.12 + 3.20 + 0.09) * 1000)


def test_tables_of_each_tool() -> None:
    tables = {t.id: t.frame for t in event_tables(fold(EVENTS / "bcc-opensnoop.txt"))}
    assert tables["top-paths"].row(0, named=True) == {"path": "/usr/irissys/mgr/IRIS.DAT", "opens": 2, "failed": 0}
    failures = tables["failures"]
    assert failures.row(0, named=True) == {"errno": "ENOENT", "command": "irisdb", "opens": 2, "example path": "/usr/irissys/mgr/iris.lck"}
    assert set(failures["errno"]) == {"ENOENT", "EACCES"}
    talkers = {t.id: t.frame for t in event_tables(fold(EVENTS / "bcc-tcplife.txt"))}["top-talkers"]
    assert talkers.row(0, named=True) == {"command": "irisdb", "remote": "10.1.9.30", "port": "51234", "bytes": 2078 * 1024, "sessions": 1}
    execs = event_tables(fold(EVENTS / "bcc-execsnoop-Tx.txt"))[0].frame
    assert execs.row(0, named=True)["execs"] == 2
    assert event_tables(fold(EVENTS / "bcc-tcpconnect-tU.txt"))[0].frame.row(0, named=True)["connects"] == 2
    assert event_tables(fold(EVENTS / "libbpf-tools-biosnoop.txt"))[0].frame.row(0, named=True)["command"] == "jbd2/nvme0n1p1"


def test_an_unsupported_table_is_refused_naming_the_supported_tools(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "biotop.txt"
    path.write_text("PID     COMM             D MAJ MIN DISK       I/O  Kbytes  AVGms\n2342    irisdb           W 259 0   nvme0n1     12     96   0.41\n")
    with pytest.raises(InputError, match="not supported; supported tables: opensnoop, execsnoop, tcplife, tcpconnect, biosnoop"):
        fold(path)
    assert main(["fold", str(path), "-o", str(tmp_path / "out.folded")]) == 2
    err = capsys.readouterr().err
    assert "opensnoop" in err and "Traceback" not in err


def test_chatter_and_a_cut_last_row_are_handled() -> None:
    text = (
        b"libbpf: failed to find valid kernel BTF\n"
        + (EVENTS / "bcc-opensnoop.txt").read_bytes()
        + b"2341   irisdb\n^C\n"
    )
    profile = fold(text)
    assert profile.samples == 8
    assert profile.diagnostics.bad_lines == 1


def test_fold_cli_writes_the_hierarchy(tmp_path: Path) -> None:
    out = tmp_path / "opens.folded"
    assert main(["fold", str(EVENTS / "bcc-opensnoop.txt"), "-q", "-o", str(out)]) == 0
    assert "irisdb;EACCES;/;etc/;shadow 1\n" in out.read_text()


def test_report_shows_the_tables_and_an_unsupported_table_as_an_error_row(tmp_path: Path) -> None:
    from lxml import html

    captures = tmp_path / "captures"
    captures.mkdir()
    for name in ("bcc-opensnoop.txt", "bcc-tcplife.txt"):
        (captures / name).write_bytes((EVENTS / name).read_bytes())
    (captures / "biotop.txt").write_text("PID     COMM             D MAJ MIN DISK       I/O  Kbytes  AVGms\n2342    irisdb           W 259 0   nvme0n1     12     96   0.41\n")
    out = tmp_path / "report"
    assert main(["report", str(captures), "-o", str(out), "-q"]) == 0
    page = html.parse(str(out / "captures" / "bcc-opensnoop.txt" / "index.html"))
    assert page.xpath("//table[@id='top-paths-table']//td[1]")[0].text_content() == "/usr/irissys/mgr/IRIS.DAT"
    assert [td.text_content() for td in page.xpath("//table[@id='failures-table']//tbody//td[1]")] == ["ENOENT", "EACCES"]
    talkers = html.parse(str(out / "captures" / "bcc-tcplife.txt" / "index.html"))
    assert talkers.xpath("//table[@id='top-talkers-table']//tbody//td[1]")[0].text_content() == "irisdb"
    index = html.parse(str(out / "index.html"))
    row = next(tr for tr in index.xpath("//tr") if "biotop.txt" in tr.text_content())
    assert "error" in row.text_content() and "supported tables: opensnoop" in row.text_content()
