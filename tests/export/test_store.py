"""The Parquet profile store (`--store`, `--label`): one file per capture in hive partitions,
readable with polars and DuckDB; the README's trend query gives the sums of the folded stacks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
import zstandard

from foldkit.cli import main
from foldkit.errors import UsageError
from foldkit.export.store import COLUMNS, FILE, parse_labels, put, store_path
from tests.support.common import FIXTURES, TESTS
from tests.support.report import check_data

README = (TESTS.parent / "README.md").read_text()
FUNCTION = "checksum_records"


def _readme_block(language: str) -> str:
    section = README[README.index("### Profile store") :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"README's profile store section has no {language} block"
    return match.group(1)


def _folded(path: Path) -> list[tuple[list[str], float]]:
    text = zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes()).decode()
    out = []
    for line in text.splitlines():
        stack, _, weight = line.rpartition(" ")
        out.append((stack.split(";"), float(weight)))
    return out


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two nights of reports into one store: the base runs, then the slow ones."""
    root = tmp_path_factory.mktemp("store")
    for night, names in (("2026-11-25", ["base-1", "base-2"]), ("2026-11-26", ["slow-1", "slow-2"])):
        folder = root / night
        folder.mkdir()
        for name in names:
            shutil.copy(check_data(f"{name}.perf.zst"), folder / f"{name}.perf.zst")
        site = root / f"site-{night}"
        args = ["report", str(folder), "-o", str(site), "-q", "-j", "1", "--store", str(root / "profiles"), "--label", f"date={night}"]
        assert main(args) == 0
    return root


def test_one_file_per_capture_in_hive_partitions(nights: Path) -> None:
    files = sorted(p.relative_to(nights / "profiles").as_posix() for p in (nights / "profiles").rglob("*") if p.is_file())
    assert files == [
        f"date=2026-11-25/capture=base-1.perf.zst/{FILE}",
        f"date=2026-11-25/capture=base-2.perf.zst/{FILE}",
        f"date=2026-11-26/capture=slow-1.perf.zst/{FILE}",
        f"date=2026-11-26/capture=slow-2.perf.zst/{FILE}",
    ]
    one = pl.read_parquet(nights / "profiles" / files[0])
    assert one.columns == [*COLUMNS, "date"]
    assert one["capture"].unique().to_list() == ["base-1.perf.zst"] and one["date"].unique().to_list() == ["2026-11-25"]
    # the report does not keep the store's rows
    assert not list(nights.glob("site-*/**/*.store.parquet"))


def test_the_store_holds_the_folded_stacks(nights: Path) -> None:
    frame = pl.scan_parquet(f"{nights}/profiles/**/*.parquet").collect()
    for night in ("2026-11-25", "2026-11-26"):
        for folder in sorted((nights / f"site-{night}" / "captures").iterdir()):
            rows = frame.filter(pl.col("capture") == folder.name)
            folded = _folded(folder / "stacks.folded.zst")
            assert rows["stack"].to_list() == [";".join(f) for f, _ in folded]
            assert rows["weight"].to_list() == [w for _, w in folded]
            assert rows["frame_leaf"].to_list() == [f[-1] for f, _ in folded]
            assert rows["depth"].to_list() == [len(f) for f, _ in folded]
            assert rows["samples"].null_count() == 0 and rows["samples"].sum() > 0


def _expected_shares(nights: Path) -> dict[tuple[str, str], tuple[float, float]]:
    out = {}
    for night in ("2026-11-25", "2026-11-26"):
        for folder in (nights / f"site-{night}" / "captures").iterdir():
            folded = _folded(folder / "stacks.folded.zst")
            total = sum(w for _, w in folded)
            own = sum(w for f, w in folded if f[-1] == FUNCTION)
            under = sum(w for f, w in folded if FUNCTION in f)
            out[(night, folder.name)] = (own / total, under / total)
    return out


def test_the_readme_trend_query_gives_the_folded_sums(nights: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(nights)
    namespace: dict[str, object] = {}
    exec(_readme_block("python"), namespace)
    trend = namespace["trend"]
    assert isinstance(trend, pl.DataFrame)
    got = {(r["date"], r["capture"]): (r["self_share"], r["total_share"]) for r in trend.iter_rows(named=True)}
    expected = _expected_shares(nights)
    assert got.keys() == expected.keys()
    for key, (own, under) in expected.items():
        assert got[key] == pytest.approx((own, under), rel=1e-12)
    assert expected[("2026-11-26", "slow-1.perf.zst")][0] > expected[("2026-11-25", "base-1.perf.zst")][0]  # it regressed
    assert "self_share" in capsys.readouterr().out


def test_duckdb_reads_the_store(nights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(nights)
    rows = duckdb.sql(_readme_block("sql")).fetchall()
    expected = _expected_shares(nights)
    assert [(str(d), c) for d, c, _ in rows] == sorted(expected)
    for d, c, share in rows:
        assert share == pytest.approx(expected[(str(d), c)][0], rel=1e-12)
    assert rows[2][2] > rows[0][2]  # the slow runs spend more in it


def test_fold_stores_each_input_and_writes_their_merge(tmp_path: Path) -> None:
    inputs = [str(FIXTURES / "java.perf"), str(FIXTURES / "bcc-profile.txt")]
    assert main(["fold", *inputs, "-q", "-o", str(tmp_path / "plain.folded")]) == 0
    args = ["fold", *inputs, "-q", "-o", str(tmp_path / "stored.folded"), "--store", str(tmp_path / "p"), "--label", "host=web-3/date=2026-11-26"]
    assert main(args) == 0
    assert (tmp_path / "plain.folded").read_bytes() == (tmp_path / "stored.folded").read_bytes()
    for spec in inputs:
        path = store_path(tmp_path / "p", spec, (("host", "web-3"), ("date", "2026-11-26")))
        frame = pl.read_parquet(path)
        assert frame["capture"].unique().to_list() == [spec] and frame["host"].unique().to_list() == ["web-3"]
        assert main(["fold", spec, "-q", "-o", str(tmp_path / "one.folded")]) == 0
        lines = (tmp_path / "one.folded").read_text().splitlines()
        assert frame["stack"].to_list() == [line.rpartition(" ")[0] for line in lines]
    assert main(args) == 0  # again: each file replaced, no temporary left behind
    assert len([p for p in (tmp_path / "p").rglob("*") if p.is_file()]) == 2


def test_a_file_is_replaced_atomically(tmp_path: Path) -> None:
    first = put(tmp_path, "cpu.perf", (), b"old rows")
    assert first.read_bytes() == b"old rows"
    source = tmp_path / "new.parquet"
    source.write_bytes(b"new rows")
    assert put(tmp_path, "cpu.perf", (), source) == first
    assert first.read_bytes() == b"new rows" and not source.exists()
    assert sorted(p.name for p in first.parent.iterdir()) == [FILE]


@pytest.mark.parametrize("spec", ["host", "host=", "=web", "9x=1", "capture=x", "a=1/a=2", "stack=s"])
def test_bad_labels_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_labels([spec])


def test_labels_and_store_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_labels(["host=web-3/date=2026-11-26", "run=a b"]) == (("host", "web-3"), ("date", "2026-11-26"), ("run", "a b"))
    java = str(FIXTURES / "java.perf")
    assert main(["fold", java, "--label", "host=web-3", "-o", str(tmp_path / "x.folded")]) == 2
    assert "--label needs --store" in capsys.readouterr().err
    assert main(["report", java, "-o", str(tmp_path / "site"), "--label", "host=web-3"]) == 2
    assert "--label needs --store" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["report", java, "-o", str(tmp_path / "site"), "--store", str(tmp_path / "file")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert main(["fold", java, "--store", str(tmp_path / "s"), "--label", "bad", "-o", str(tmp_path / "x.folded")]) == 2
    assert "expected key=value" in capsys.readouterr().err
