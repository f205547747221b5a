"""What a check reports, in every form: a table for people, JSON, JUnit XML (via lxml) for CI
systems, and Markdown for a pull-request comment or a CI step summary. All say the same thing."""

from __future__ import annotations

import math
import os
import re

from foldkit.analysis.tables import WRITERS, Column, Rows, Table, render_text, write_table
from foldkit.outputs import write_bytes
from foldkit.text import utf8_all, utf8_json, visible

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:  # `gate` makes the results and imports this module for their notebook view
    from typing import Any

    from foldkit.regression.gate import BudgetResult, CheckResult, Finding

#: Rows of "largest increases that are not regressions" shown for context in the text and Markdown.
CONTEXT_ROWS = 5

_MEASURE = {"total": "inclusive", "self": "self"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
#: The title of the context table: increases that are not regressions, strongest evidence first.
OTHER_TITLE = "other increases, strongest evidence first (not regressions)"
#: Increases smaller than this (as a fraction) are not listed as context.
CONTEXT_MIN = 0.0001


def describe_p(p: float) -> str:
    """A p-value for people."""
    if math.isnan(p):
        return "-"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def xml_safe(text: str) -> str:
    """`text` with characters XML cannot hold, or that hide or reorder text, made visible (the
    one sanitising path of every picture and page, `foldkit.text.visible`)."""
    return visible(text)


def _html_escape(text: str) -> str:
    return xml_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_escape(text: str) -> str:
    """`text` safe in a Markdown table cell: markup characters escaped, HTML neutralised."""
    text = xml_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def measure_label(f: Finding) -> str:
    """What a finding compares, for people: `inclusive`, `self`, `inclusive count`, `self count`."""
    return _MEASURE[f.measure] + (" count" if f.scale == "absolute" else "")


def checked(result: CheckResult) -> int:
    """How many things were checked: functions and patterns, and budgets (the JUnit test cases)."""
    return len(result.functions()) + len(result.budgets)


def verdict(result: CheckResult) -> str:
    """One line: PASS, UNDERPOWERED or FAIL and why (regressed functions culprit first)."""
    if result.passed:
        kept = f", {len(result.budgets)} budget(s) kept" if result.budgets else ""
        if result.underpowered:
            return (
                f"UNDERPOWERED: no regression shown in {len(result.functions())} functions checked{kept}, but "
                f"{underpowered_reason(result)}"
            )
        return f"PASS: no regression beyond {result.options.max_increase} in {len(result.functions())} functions checked" + kept
    parts = []
    if result.regressions:
        names = result.culprit_names()
        parts.append(f"{len(names)} regressed: {', '.join(names)}")
    if result.breaches:
        parts.append(f"{len(result.breaches)} budget(s) exceeded: {', '.join(b.budget.text for b in result.breaches)}")
    return "FAIL: " + "; ".join(parts)


def detectable_text(result: CheckResult) -> str:
    """The smallest increase these samples detect, for people."""
    if result.detectable_pp is None:
        return "no increase in a function at 10% share would be caught 80% of the time"
    return f"an increase of {result.detectable_pp:.2f} pp in a function at 10% share is caught 80% of the time"


def underpowered_reason(result: CheckResult) -> str:
    """Why a check that found nothing cannot vouch for the candidate (see `CheckResult.underpowered`)."""
    mde = "no increase" if result.detectable_pp is None else f"only increases of {result.detectable_pp:.1f} pp or more"
    if not result.measured:
        return (
            f"one run a side cannot measure run-to-run variance: {mde} in a function at 10% share would be "
            "caught (80% power); record at least 2 runs a side (see the README's check section)"
        )
    return f"these samples are too few: {mde} in a function at 10% share would be caught (80% power); record more or longer runs"


def note(f: Finding) -> str:
    """What else to know about a flagged finding: which regressed callee explains an inclusive rise."""
    if f.explained_by is None:
        return ""
    return "its own self time" if f.explained_by == f.name else f"explained by callee {f.explained_by}"


def finding_message(f: Finding) -> str:
    """A finding in one sentence."""
    if f.regression:
        what = "regression"
    elif f.flagged:
        what = f"not a separate regression: {note(f)}"
    else:
        what = "above threshold, not significant" if f.exceeds else "ok"
    of = " of the baseline's samples per run" if f.scale == "absolute" else ""
    return (
        f"{_MEASURE[f.measure]} {'samples' if f.scale == 'absolute' else 'share'} {f.delta * 100:+.2f} pp "
        f"({f.base * 100:.2f}% -> {f.cand * 100:.2f}%{of}), "
        f"p={describe_p(f.p)}, Holm-adjusted p={describe_p(f.p_adjusted)}: {what}"
    )


def no_code_message(result: CheckResult) -> str | None:
    """How much of each side has no code frame under its comm/PID/TID root frames (samples perf
    could not unwind), when that changed; else None."""
    base, cand = result.no_code_shares()
    if abs(cand - base) < CONTEXT_MIN:
        return None
    return (
        f"samples without a code frame (perf could not unwind them; not a function): "
        f"{_pct(base)} -> {_pct(cand)} ({_pp(cand - base)})"
    )


def budget_message(b: BudgetResult) -> str:
    """A budget result in one sentence."""
    state = "EXCEEDED" if b.breached else "kept"
    return (
        f"{_MEASURE[b.budget.measure]} share {b.cand * 100:.2f}% of the candidate "
        f"(baseline {b.base * 100:.2f}%), limit {b.budget.limit * 100:g}%: {state}"
    )


def _settings(result: CheckResult) -> dict[str, Any]:
    o = result.options
    return {
        "max_increase": str(o.max_increase),
        "alpha": o.alpha,
        "functions": list(o.functions),
        "budgets": [b.text for b in o.budgets],
        "only": o.only,
        "absolute": o.absolute,
        "run_noise_pct": o.run_noise * 100,
    }


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "name": f.name,
        "kind": f.kind,
        "measure": f.measure,
        "scale": f.scale,
        "baseline_pct": f.base * 100,
        "candidate_pct": f.cand * 100,
        "change_pp": f.delta * 100,
        "stderr_pp": f.se * 100,
        "df": None if math.isinf(f.df) else f.df,
        "p_value": f.p,
        "p_adjusted": f.p_adjusted,
        "exceeds_threshold": f.exceeds,
        "significant": f.significant,
        "regression": f.regression,
        "explained_by": f.explained_by,
        "dispersion": f.dispersion,
    }


def _budget_dict(b: BudgetResult) -> dict[str, Any]:
    return {
        "budget": b.budget.text,
        "measure": b.budget.measure,
        "limit_pct": b.budget.limit * 100,
        "candidate_pct": b.cand * 100,
        "baseline_pct": b.base * 100,
        "breached": b.breached,
    }


def to_dict(result: CheckResult) -> dict[str, Any]:
    """The whole result as plain data (the JSON output)."""
    return {
        "passed": result.passed,
        "status": result.status,
        "verdict": verdict(result),
        "settings": _settings(result),
        "method": result.method,
        "run_noise_pct": result.noise * 100,
        "dispersion": result.dispersion,
        "dispersion_df": None if math.isinf(result.dispersion_df) else result.dispersion_df,
        "run_to_run_measured": result.measured,
        "tests": result.tests,
        "checked": checked(result),
        "absolute_reason": result.options.absolute_reason or None,
        "no_code_frame_pct": [x * 100 for x in result.no_code_shares()],
        "detectable_pp_at_10pct": result.detectable_pp,
        "baseline": vars(result.baseline),
        "candidate": vars(result.candidate),
        "culprits": result.culprit_names(),
        "regressions": [_finding_dict(f) for f in result.regressions],
        "explained": [_finding_dict(f) for f in result.explained],
        "budgets": [_budget_dict(b) for b in result.budgets],
        "findings": [_finding_dict(f) for f in result.findings],
        "warnings": result.warnings,
    }


def to_json(result: CheckResult) -> bytes:
    """The JSON report."""
    import json  # (on use: only --json needs it)

    return utf8_json(json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n")


def to_junit(result: CheckResult) -> bytes:
    """JUnit XML: one test case per checked function or pattern, one per budget."""
    from lxml import etree

    functions = result.functions()
    failures = sum(1 for _, _, fs in functions if any(f.regression for f in fs)) + len(result.breaches)
    tests = checked(result)
    root = etree.Element("testsuites", name="foldkit check", tests=str(tests), failures=str(failures), errors="0")
    suite = etree.SubElement(
        root, "testsuite", name="foldkit check", tests=str(tests), failures=str(failures), errors="0", skipped="0"
    )
    props = etree.SubElement(suite, "properties")
    settings = _settings(result)
    for key, value in (
        ("verdict", verdict(result)),
        ("status", result.status),
        ("method", result.method),
        ("max_increase", settings["max_increase"]),
        ("alpha", str(settings["alpha"])),
        ("baseline", f"{result.baseline.runs} run(s), {result.baseline.samples} samples"),
        ("candidate", f"{result.candidate.runs} run(s), {result.candidate.samples} samples"),
        ("no_code_frame", no_code_message(result) or "unchanged"),
    ):
        etree.SubElement(props, "property", name=key, value=xml_safe(value))
    for name, kind, fs in functions:
        case = etree.SubElement(suite, "testcase", classname=f"foldkit.check.{kind}", name=xml_safe(name), time="0")
        bad = [f for f in fs if f.regression]
        text = "\n".join(xml_safe(finding_message(f)) for f in fs)
        if bad:
            failure = etree.SubElement(case, "failure", type="regression", message=xml_safe(finding_message(bad[0])))
            failure.text = text
        else:
            out = etree.SubElement(case, "system-out")
            out.text = text
    for b in result.budgets:
        case = etree.SubElement(suite, "testcase", classname="foldkit.check.budget", name=xml_safe(b.budget.text), time="0")
        if b.breached:
            failure = etree.SubElement(case, "failure", type="budget", message=xml_safe(budget_message(b)))
            failure.text = xml_safe(budget_message(b))
        else:
            etree.SubElement(case, "system-out").text = xml_safe(budget_message(b))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _pp(x: float) -> str:
    return f"{x * 100:+.2f} pp"


def flagged(result: CheckResult) -> list[Finding]:
    """The regressions, then the inclusive rises a regressed callee explains (the rows of every
    "regressions" table), in the one order of `rank_key`."""
    return [f for f in result.findings if f.flagged]


def _context(result: CheckResult) -> list[Finding]:
    """The strongest other increases (not flagged), in the one order (strongest evidence first)."""
    return [f for f in result.findings if not f.flagged and f.delta > CONTEXT_MIN][:CONTEXT_ROWS]


def _summary_lines(result: CheckResult) -> list[str]:
    b, c = result.baseline, result.candidate
    lines = [
        f"baseline:  {b.runs} run(s), {b.samples:,} samples",
        f"candidate: {c.runs} run(s), {c.samples:,} samples",
        f"test: {result.method}; weighted Holm correction over {result.tests} tests (self, and inclusive at "
        f"a quarter of the weight, of {len(result.functions())} functions) at alpha {result.options.alpha:g}; "
        f"a regression must also exceed {result.options.max_increase}",
    ]
    if result.options.absolute:
        why = result.options.absolute_reason or "asked for with --absolute"
        lines.append(f"sample counts compared too, in points of the baseline's samples per run ({why})")
    lines.append(f"power: {detectable_text(result)}")
    if result.underpowered:
        lines.append(f"underpowered: {underpowered_reason(result)}")
    return lines


def findings_table(findings: list[Finding], title: str) -> Table:
    """Findings as an analysis table (shared text rendering)."""
    # lists, not a polars frame: the report's text needs no polars (it loads for CSV, Parquet)
    frame = Rows(
        {
            "name": utf8_all(f.name for f in findings),
            "measure": [measure_label(f) for f in findings],
            "base": [f.base * 100 for f in findings],
            "cand": [f.cand * 100 for f in findings],
            "delta": [f.delta * 100 for f in findings],
            "p": [f.p_adjusted for f in findings],
            "note": [note(f) for f in findings],
        },
        {
            "name": "text", "measure": "text", "base": "float", "cand": "float", "delta": "float",
            "p": "float", "note": "text",
        },
    )  # fmt: skip
    columns = [
        Column("name", "function", "text", "left"),
        Column("measure", "measure", "text", "left"),
        Column("base", "baseline", "percent"),
        Column("cand", "candidate", "percent"),
        Column("delta", "change", "pp"),
        Column("p", "p (Holm)", "pvalue"),
    ]
    if any(f.explained_by for f in findings):
        columns.append(Column("note", "note", "text", "left"))
    return Table(frame, columns, title)


def budgets_table(budgets: list[BudgetResult]) -> Table:
    """Budget results as an analysis table."""
    frame = Rows(
        {
            "budget": utf8_all(b.budget.text for b in budgets),
            "cand": [b.cand * 100 for b in budgets],
            "base": [b.base * 100 for b in budgets],
            "limit": [b.budget.limit * 100 for b in budgets],
            "state": ["EXCEEDED" if b.breached else "ok" for b in budgets],
        },
        {"budget": "text", "cand": "float", "base": "float", "limit": "float", "state": "text"},
    )
    columns = [
        Column("budget", "budget", "text", "left"),
        Column("cand", "candidate", "percent"),
        Column("base", "baseline", "percent"),
        Column("limit", "limit", "percent"),
        Column("state", "state", "text", "left"),
    ]
    return Table(frame, columns, "budgets:")


def text_tables(result: CheckResult) -> list[Table]:
    """The readable report as tables (the first one's title carries the verdict and settings)."""
    head = [f"foldkit check: {verdict(result)}", *_summary_lines(result)]
    no_code = no_code_message(result)
    if no_code:
        head.append(no_code)
    head.extend(f"warning: {w}" for w in result.warnings)
    tables: list[Table] = []
    if result.regressions:
        tables.append(findings_table(flagged(result), "regressions (culprit first):"))
    if result.budgets:
        tables.append(budgets_table(result.budgets))
    context = _context(result)
    if context:
        tables.append(findings_table(context, OTHER_TITLE + ":"))
    if not tables:
        tables.append(findings_table([], "no function was tested"))
    for table in tables[1:]:
        table.title = "\n" + table.title  # a blank line between tables
    tables[0].title = "\n".join(head) + "\n\n" + tables[0].title
    return tables


def to_text(result: CheckResult) -> str:
    """The readable report as plain text."""
    return "\n".join(render_text(t) for t in text_tables(result))


def report_bytes(result: CheckResult, quiet: bool = False) -> bytes:
    """The readable report as text for a file (only the verdict when quiet)."""
    if quiet:
        return f"foldkit check: {verdict(result)}\n".encode("utf-8", "surrogateescape")
    return b"".join(WRITERS["text"](table) for table in text_tables(result))


def print_report(result: CheckResult, quiet: bool = False, path: str | os.PathLike[str] | None = None) -> None:
    """Print the readable report to stdout (a rich table on a terminal), or write it as text to
    `path`; only the verdict when quiet."""
    if path is not None or quiet:
        write_bytes(path, report_bytes(result, quiet))
        return
    for table in text_tables(result):
        write_table(table, None, "text")


def _md_findings(findings: list[Finding]) -> list[str]:
    lines = [
        "| function | measure | baseline | candidate | change | p (Holm) | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for f in findings:
        lines.append(
            f"| {md_escape(f.name)} | {measure_label(f)} | {_pct(f.base)} | {_pct(f.cand)} | "
            f"{'**' + _pp(f.delta) + '**' if f.regression else _pp(f.delta)} | {describe_p(f.p_adjusted)} | "
            f"{md_escape(note(f))} |"
        )
    return lines


def to_html(result: CheckResult) -> str:
    """An HTML fragment (a notebook view): the verdict, regressions and budgets (lxml-built)."""
    from lxml import html
    from lxml.html import builder as E

    parts = [E.P(E.STRONG(verdict(result)))]
    no_code = no_code_message(result)
    if no_code:
        parts.append(E.P(no_code))
    shown = flagged(result) if result.regressions else _context(result)
    if shown:
        head = E.TR(*(E.TH(h) for h in ("function", "measure", "baseline", "candidate", "change", "p (Holm)", "note")))
        rows = [
            E.TR(E.TD(E.CODE(xml_safe(f.name))), E.TD(measure_label(f)), E.TD(_pct(f.base)), E.TD(_pct(f.cand)),
                 E.TD(_pp(f.delta)), E.TD(describe_p(f.p_adjusted)), E.TD(xml_safe(note(f))))
            for f in shown
        ]  # fmt: skip
        parts += [E.P("regressions (culprit first):" if result.regressions else OTHER_TITLE + ":"), E.TABLE(head, *rows)]
    parts += [E.P(f"budget {b.budget.text}: {budget_message(b)}") for b in result.budgets]
    return html.tostring(E.DIV(*parts), encoding="unicode")


def to_markdown(result: CheckResult) -> bytes:
    """The Markdown report (for a pull-request comment or `$GITHUB_STEP_SUMMARY`)."""
    mark = {"pass": "✅", "fail": "❌", "underpowered": "⚠️"}[result.status]
    out = [f"### {mark} foldkit check: {md_escape(verdict(result))}", ""]
    no_code = no_code_message(result)
    if no_code:
        out += [md_escape(no_code), ""]
    if result.regressions:
        out += ["**Regressions** (culprit first)", "", *_md_findings(flagged(result)), ""]
    if result.budgets:
        out += ["**Budgets**", "", "| budget | candidate | baseline | limit | state |", "| --- | ---: | ---: | ---: | --- |"]
        for b in result.budgets:
            state = "**exceeded**" if b.breached else "ok"
            out.append(f"| {md_escape(b.budget.text)} | {_pct(b.cand)} | {_pct(b.base)} | {b.budget.limit * 100:g}% | {state} |")
        out.append("")
    context = _context(result)
    if context:
        out += [f"<details><summary>{OTHER_TITLE.capitalize()}</summary>", "", *_md_findings(context), "", "</details>", ""]
    out += ["<details><summary>Method</summary>", ""]
    out += [f"- {_html_escape(line)}" for line in _summary_lines(result)]
    out += [f"- warning: {md_escape(w)}" for w in result.warnings]
    out += ["", "</details>", ""]
    return "\n".join(out).encode("utf-8", "backslashreplace")
