"""`mlir-fdt-opt`: run mlir-fdt passes (and the MLIR/IREE passes registered in IREE's bindings)
on an MLIR file, in mlir-opt's conventions."""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import traceback
from dataclasses import dataclass

from ..errors import FdtError

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.M)


@dataclass
class PipelineElement:
    name: str
    options: dict[str, str]
    text: str  # as written, for upstream passes


def split_top_level(text: str, sep: str = ",") -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_pipeline(text: str) -> list[PipelineElement]:
    """`builtin.module(a,b{x=1})` or `a,b{x=1}` -> elements (nested anchors other than the
    module are kept as text for the upstream pass manager)."""
    text = text.strip()
    m = re.fullmatch(r"builtin\.module\((.*)\)", text, re.S)
    if m:
        text = m.group(1)
    elements = []
    for part in split_top_level(text):
        pm = re.fullmatch(r"([\w.\-]+)(\{(.*)\})?", part, re.S)
        if pm and "(" not in part:
            opts = {}
            for kv in (pm.group(3) or "").split():
                if "=" not in kv:
                    raise FdtError(f"pass option '{kv}' of '{pm.group(1)}' is not of the form name=value")
                k, v = kv.split("=", 1)
                opts[k] = v
            elements.append(PipelineElement(pm.group(1), opts, part))
        else:
            elements.append(PipelineElement(part.split("(")[0], {}, part))
    return elements


def instantiate(element: PipelineElement):
    """An mlir-fdt pass object, or None for an upstream pass."""
    from ..passes import get_all_passes
    registry = get_all_passes()
    if element.name not in registry:
        return None
    cls = registry[element.name]()
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in element.options.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise FdtError(f"unknown option '{key}' for pass '{element.name}' (options: {known})")
        kwargs[fields[key].name] = _option_value(element.name, key, fields[key].type, value)
    return cls(**kwargs)


def _option_value(pass_name: str, key: str, kind, value: str):
    """A pass option's text as its field's type (int, bool as true/false, or text)."""
    try:
        if kind in (int, "int"):
            return int(value)
    except ValueError:
        raise FdtError(f"option '{key}' of pass '{pass_name}' expects an integer, got '{value}'") from None
    if kind in (bool, "bool"):
        if value not in ("true", "false", "1", "0"):
            raise FdtError(f"option '{key}' of pass '{pass_name}' expects true or false, got '{value}'")
        return value in ("true", "1")
    return value


def run_element(module, element: PipelineElement) -> None:
    from ..ir import run_pipeline
    p = instantiate(element)
    if p is not None:
        p.apply(module)
    else:
        run_pipeline(module, f"builtin.module({element.text})")


def list_passes() -> str:
    from ..passes import get_all_passes
    lines = ["mlir-fdt passes:"]
    for name, load in sorted(get_all_passes().items()):
        cls = load()
        opts = " ".join(f"{f.name.replace('_', '-')}={f.default}" for f in dataclasses.fields(cls))
        lines.append(f"  --{name}{'{' + opts + '}' if opts else ''}  {cls.summary}")
    lines.append("Any other pass registered in IREE's MLIR (canonicalize, cse, one-shot-bufferize, ...) "
                 "can be named in --pass-pipeline too.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlir-fdt-opt", description=__doc__, epilog=_epilog(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?", default="-", help="input .mlir file ('-' or omitted: stdin)")
    parser.add_argument("-o", dest="output", default="-", help="output file (default stdout)")
    parser.add_argument("--pass-pipeline", "-p", dest="pipeline", action="append", default=[],
                        help="pass pipeline, e.g. 'builtin.module(fdt-normalize-linalg,canonicalize)'")
    parser.add_argument("--split-input-file", action="store_true", help="process chunks separated by '// -----'")
    parser.add_argument("--verify-diagnostics", action="store_true",
                        help="check errors against `// expected-error` annotations")
    parser.add_argument("--mlir-print-ir-after-all", action="store_true", help="print the IR after each pass")
    parser.add_argument("--list-passes", action="store_true", help="list the mlir-fdt passes and exit")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    return parser


def _epilog() -> str:
    try:
        return list_passes()
    except Exception:  # pragma: no cover - help must never fail
        return ""


def _pass_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split `--fdt-foo` / `--fdt-foo=opts` / `--fdt-foo{opts}` flags from the rest."""
    from ..passes import get_all_passes
    names = set(get_all_passes())
    rest, pipeline = [], []
    for a in argv:
        m = re.fullmatch(r"--([\w\-]+)(?:=(.*)|(\{.*\}))?", a, re.S)
        if m and m.group(1) in names:
            opts = m.group(2) if m.group(2) is not None else (m.group(3) or "")[1:-1]
            # as a -p element in place, so pass flags and -p pipelines keep their command-line order
            rest.extend(["-p", m.group(1) + (f"{{{opts}}}" if opts else "")])
        else:
            rest.append(a)
    return rest, pipeline


def _diagnostic_line(loc_text: str) -> int | None:
    m = re.search(r":(\d+):\d+", loc_text)
    return int(m.group(1)) if m else None


def expected_errors(chunk: str) -> list[tuple[int, str]]:
    """(line, message) of each `// expected-error @below|@above|@+N|@-N {{msg}}` annotation."""
    out = []
    for i, line in enumerate(chunk.splitlines(), start=1):
        m = re.search(r"//\s*expected-error\s*(@below|@above|@[+-]\d+)?\s*\{\{(.*)\}\}", line)
        if not m:
            continue
        where = m.group(1)
        target = i + 1 if where == "@below" else i - 1 if where == "@above" else \
            i + int(where[1:]) if where else i
        out.append((target, m.group(2)))
    return out


def process_chunk(text: str, elements: list[PipelineElement], args, out) -> int:
    from ..ir import ir, new_context
    ctx = new_context()
    diags: list[tuple[int | None, str]] = []
    status = 0
    try:
        with ctx, ir.Location.unknown():
            try:
                module = ir.Module.parse(text)
            except ir.MLIRError as e:
                for d in e.error_diagnostics:
                    diags.append((_diagnostic_line(str(d.location)), d.message))
                raise FdtError(f"input does not parse: {e}") from None
            for el in elements:
                try:
                    run_element(module, el)
                except ir.MLIRError as e:
                    for d in e.error_diagnostics:
                        diags.append((_diagnostic_line(str(d.location)), d.message))
                    raise FdtError(f"{el.name}: {e}") from None
                except FdtError as e:
                    loc = getattr(e, "location", None)
                    diags.append((_diagnostic_line(str(loc)) if loc is not None else None, str(e)))
                    raise
                if args.mlir_print_ir_after_all:
                    print(f"// -----// IR Dump After {el.name} //----- //\n{module}", file=sys.stderr)
            if not args.verify_diagnostics:
                out.write(str(module))
    except FdtError as e:
        if not args.verify_diagnostics:
            if args.debug:
                traceback.print_exc()
            print(f"error: {e}", file=sys.stderr)
            return 1
        status = 1
    if args.verify_diagnostics:
        expected = expected_errors(text)
        ok = True
        for line, msg in expected:
            if not any((dl == line or dl is None) and msg in dm for dl, dm in diags):
                print(f"error: expected error at line {line} not produced: {msg}", file=sys.stderr)
                ok = False
        for dl, dm in diags:
            if not any((dl == line or dl is None) and msg in dm for line, msg in expected):
                print(f"error: unexpected error (line {dl}): {dm}", file=sys.stderr)
                ok = False
        if not expected and status:
            ok = False
        return 0 if ok else 1
    return status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rest, flag_pipeline = _pass_flags(argv)
        args = build_parser().parse_args(rest)
        if args.list_passes:
            print(list_passes())
            return 0
        elements = [e for p in args.pipeline for e in parse_pipeline(p)] + \
                   [e for p in flag_pipeline for e in parse_pipeline(p)]
        for e in elements:
            instantiate(e)  # reject unknown options before reading input
        text = sys.stdin.read() if args.input == "-" else open(args.input).read()
    except FdtError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    chunks = SPLIT_MARKER.split(text) if args.split_input_file else [text]
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    status = 0
    for i, chunk in enumerate(chunks):
        if i and not args.verify_diagnostics:
            out.write("\n// -----\n")
        status |= process_chunk(chunk, elements, args, out)
    if out is not sys.stdout:
        out.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
