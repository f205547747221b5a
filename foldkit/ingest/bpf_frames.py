"""Frame-name rules shared by the bpftrace and BCC folders and the folded reader.

BPF tools print symbols with offsets (`+123` in bpftrace, `+0x7b` in BCC), sometimes with an address
column or a ` [module]` suffix, and never say which frames are the kernel's. These helpers turn such
text into folded frame names and decide which frames are kernel frames, by address where one is
printed and by well-known kernel entry-path names where not.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

from foldkit.lazy import regex
from foldkit.profile import Diagnostics

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Frame given to an entry whose stacks are all empty, so its weight is kept (user-mode samples in a
#: kstack map, kernel threads in a ustack map).
NO_STACK = "[no stack]"
#: Frame for an unresolved address (as stackcollapse-perf.pl and BCC print it).
UNKNOWN = "[unknown]"
KERNEL_SUFFIX = "_[k]"
INLINE_SUFFIX = "_[i]"

#: Lowest kernel address: x86-64 puts the kernel at 0xffff800000000000 and up, arm64 at
#: 0xffff000000000000 and up; user space stays below 2**48 on both. Junk values read from stacks
#: without frame pointers are usually ASCII text or small numbers, so they count as user addresses.
KERNEL_ADDRESS_MIN = 0xFFFF_0000_0000_0000

_OFFSET = regex(globals(), "_OFFSET", r"\+(?:0x[0-9a-fA-F]+|\d+)$")
_HEX_ADDRESS = regex(globals(), "_HEX_ADDRESS", r"(?:0x)?[0-9a-fA-F]+")

#: Names that only the kernel uses: syscall, interrupt and exception entry paths, thread start, idle,
#: the scheduler core and BPF trampolines. One of them in a stack marks where the kernel part starts
#: (every kernel stack that is not cut short passes through one). Chosen from the kernel stacks of
#: every capture in the test corpus (x86-64) plus the arm64 entry names.
KERNEL_NAME = regex(
    globals(),
    "KERNEL_NAME",
    r"(?:"
    r"entry_SYSCALL\w*|entry_SYSENTER\w*|entry_INT80\w*|system_call\w*|"
    r"do_syscall_(?:64|32\w*)|x64_sys_call|__x64_sys_\w+|__ia32_sys_\w+|__arm64_sys_\w+|"
    r"__do_sys_\w+|__se_sys_\w+|ksys_\w+|syscall_exit_to_user_mode\w*|"
    r"asm_\w+|sysvec_\w+|__sysvec_\w+|irqentry_\w+|__irq_exit_rcu|irq_exit_rcu|handle_softirqs|"
    r"__do_softirq|exc_page_fault|do_user_addr_fault|ret_from_intr|common_interrupt|"
    r"ret_from_fork(?:_asm)?|kthread|worker_thread|smpboot_thread_fn|"
    r"secondary_startup_64\w*|common_startup_64|start_kernel|x86_64_start_\w+|start_secondary|"
    r"cpu_startup_entry|do_idle|default_idle\w*|pv_native_safe_halt|native_safe_halt|"
    r"__schedule|schedule_hrtimeout\w*|finish_task_switch(?:\.\w+)*|"
    r"bpf_prog_[0-9a-f]{16}_\w*|bpf_trace_run\d+|"
    r"el0t_64_\w+|el1h_64_\w+|el0_svc\w*|el0_da|el0_ia|__secondary_switched|secondary_start_kernel|"
    r"\[Missed Kernel Stack\]"
    r")(?:\+(?:0x[0-9a-fA-F]+|\d+))?(?:_\[k\])?"
)


def strip_offset(symbol: str) -> str:
    """`foo+123` / `foo+0x7b` -> `foo`, so one function reached from several call sites merges."""
    if "+" not in symbol:
        return symbol
    return _OFFSET.sub("", symbol)


def tidy(symbol: str) -> str:
    """A symbol as a folded frame name: offset stripped, `;` (the frame separator) made `:`."""
    name = strip_offset(symbol.strip())
    return name.replace(";", ":") if ";" in name else name


def parse_address(text: str) -> int | None:
    """The integer value of a hex address (`0x7f12…` or bare `ffffffff81…`), or None."""
    if not _HEX_ADDRESS.fullmatch(text):
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def is_kernel_address(address: int) -> bool:
    """True for an address in the kernel half of the address space."""
    return address >= KERNEL_ADDRESS_MIN


def unresolved(address: str, addrs: bool, module: str | None = None) -> str:
    """Name of a frame without a symbol: `[module]` or `[unknown]`, with `<addr>` when `addrs`."""
    base = module.rsplit("/", 1)[-1] if module and module not in ("[unknown]", "unknown") else "unknown"
    if addrs and address:
        return f"[{base} <{address.removeprefix('0x')}>]"
    return f"[{base}]"


def is_kernel_name(name: str) -> bool:
    """True if `name` is a function only the kernel has (entry paths, scheduler core, BPF glue)."""
    return name.endswith(KERNEL_SUFFIX) or KERNEL_NAME.fullmatch(name) is not None


def annotate_kernel(name: str) -> str:
    """`name_[k]` (once)."""
    return name if name.endswith(KERNEL_SUFFIX) else name + KERNEL_SUFFIX


def kernel_start(frames: list[str]) -> int:
    """In root-first frames whose kernel part (if any) is leafward, the index where it starts:
    the first kernel-only name, or len(frames) when there is none."""
    for i, name in enumerate(frames):
        if is_kernel_name(name):
            return i
    return len(frames)


def kernel_end(frames: list[str]) -> int:
    """In leaf-first frames that start with a kernel part (if any), the index just after it:
    after the last kernel-only name, or 0 when there is none."""
    for i in range(len(frames) - 1, -1, -1):
        if is_kernel_name(frames[i]):
            return i + 1
    return 0


#: Delimiter frames BCC prints between the kernel and user parts (`-d`) and, in offwaketime, between
#: the target and the waker stacks.
KERNEL_USER_DELIMITER = "-"
WAKER_DELIMITER = "--"


def annotate_folded(frames: list[str]) -> list[str]:
    """Add `_[k]` to the kernel frames of a root-first folded stack.

    BCC's folded layout is `comm;user…;[-;]kernel…` and, for offwaketime,
    `target;user…;[-;]kernel…;--;waker kernel (leaf first)…;[-;]waker user…;waker`. Within each part
    the `-` delimiter separates kernel from user exactly; without it, the kernel part is found by
    kernel-only names (see `KERNEL_NAME`).
    """
    out = list(frames)
    segments: list[tuple[int, int]] = []
    start = 0
    for i, name in enumerate(out):
        if name == WAKER_DELIMITER:
            segments.append((start, i))
            start = i + 1
    segments.append((start, len(out)))
    for number, (lo, hi) in enumerate(segments):
        part = out[lo:hi]
        if number == 0:
            # root-first: kernel frames are leafward
            if KERNEL_USER_DELIMITER in part:
                first = part.index(KERNEL_USER_DELIMITER) + 1
            else:
                first = kernel_start(part)
            kernel = range(lo + first, hi)
        else:
            # waker part, printed leaf-first: kernel frames come first
            if KERNEL_USER_DELIMITER in part:
                end = part.index(KERNEL_USER_DELIMITER)
            else:
                end = kernel_end(part)
            kernel = range(lo, lo + end)
        for i in kernel:
            if out[i] not in (KERNEL_USER_DELIMITER, NO_STACK) and not out[i].startswith("[Missed User"):
                out[i] = annotate_kernel(out[i])
    return out


def cut_after(frames: list[str], names: frozenset[str], keep: int = 0) -> list[str]:
    """`--skip-after`: drop the frames rootward of the leafmost frame named in `names` (its
    `_[k]`-annotated form counts too), keeping the first `keep` root frames (comm, map keys)."""
    if not names:
        return frames
    for i in range(len(frames) - 1, keep - 1, -1):
        name = frames[i]
        if name in names or name.removesuffix(KERNEL_SUFFIX) in names:
            return frames[:keep] + frames[i:]
    return frames


_TABLE_WORD = regex(globals(), "_TABLE_WORD", r"[A-Z%][A-Za-z0-9_/%.-]*(?:\([a-z]+\))?")


def table_header(line: str) -> list[str] | None:
    """The column names of a BPF tool's table header (capitalised words, PID or COMM among them:
    `PID    COMM              FD ERR PATH`, `PID COMM D MAJ MIN DISK I/O Kbytes AVGms`), or None
    when `line` is not one."""
    words = line.split()
    if len(words) < 3 or not all(_TABLE_WORD.fullmatch(w) for w in words):
        return None
    if not {"PID", "TID", "COMM", "PCOMM"} & set(words):
        return None
    return words


def json_events(lines: Iterable[str], name: str, diag: Diagnostics) -> Iterator[tuple[str, Any]]:
    """(type, data) of each line of bpftrace's `-f json` output; a line that is not a JSON object
    with a type is counted as unrecognised."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        event = json_event(line)
        if event is None:
            diag.bad_line(name, lineno, line)
            continue
        yield event


#: An escape of a UTF-16 surrogate (which may stand alone in a JSON string).
_SURROGATE_ESCAPE = regex(globals(), "_SURROGATE_ESCAPE", r"\\u[dD][89a-fA-F]")


def json_event(line: str) -> tuple[str, Any] | None:
    """(type, data) of one line of `-f json` output, or None when it is not a JSON object with a
    string `type` (nested too deep for Python counts as not JSON). Its strings are `bytes_text`."""
    import json  # (on use: the readers that import this module seldom read JSON)

    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return None
    if _SURROGATE_ESCAPE.search(line):
        event = _bytes_texts(event)
    return event["type"], event.get("data")


def _lone_surrogates(error: UnicodeError) -> tuple[bytes, int]:
    """Codec error handler: a lone surrogate as a byte (`\\udc80`..`\\udcff`, the surrogate escapes
    of bytes that are not UTF-8) or its three-byte form (any other)."""
    assert isinstance(error, UnicodeEncodeError)
    out = bytearray()
    for char in error.object[error.start : error.end]:
        code = ord(char)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else char.encode("utf-8", "surrogatepass")
    return bytes(out), error.end


codecs.register_error("foldkit.lone-surrogates", _lone_surrogates)


def bytes_text(text: str) -> str:
    """`text` as the bytes it stands for read back: a lone surrogate that a JSON escape made (which
    no byte string holds) becomes what bytes read as (see `_lone_surrogates`), as the native
    reader, which reads bytes, has it."""
    return text.encode("utf-8", "foldkit.lone-surrogates").decode("utf-8", "surrogateescape")


def _bytes_texts(value: Any) -> Any:
    """`value` (parsed JSON) with `bytes_text` of every string in it, keys too."""
    if isinstance(value, str):
        return bytes_text(value)
    if isinstance(value, list):
        return [_bytes_texts(v) for v in value]
    if isinstance(value, dict):
        return {bytes_text(k): _bytes_texts(v) for k, v in value.items()}
    return value
