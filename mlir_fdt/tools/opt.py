"""`mlir-fdt-opt`: run mlir-fdt passes (and the MLIR/IREE passes registered in IREE's bindings)
on an MLIR file, in mlir-opt's conventions."""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import traceback

from ..errors import FdtError
from ..passes import PipelineElement, instantiate, parse_pipeline, run_element

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.M)


def expand_named_pipelines(elements: list[PipelineElement]) -> list[PipelineElement]:
    """`fdt-prepare` and `fdt-lower{...}` become the passes `mlir-fdt compile` runs (pipeline.py)."""
    from ..pipeline import named_pipeline
    out = []
    for e in elements:
        names = named_pipeline(e.name, e.options)
        out += [x for text in names for x in parse_pipeline(text)] if names is not None else [e]
    return out


def list_passes() -> str:
    from ..passes import get_all_passes
    lines = ["mlir-fdt passes:"]
    for name, load in sorted(get_all_passes().items()):
        cls = load()
        opts = " ".join(f"{f.name.replace('_', '-')}={f.default}" for f in dataclasses.fields(cls))
        lines.append(f"  --{name}{'{' + opts + '}' if opts else ''}  {cls.summary}")
    from ..pipeline import named_pipeline
    lines.append("Pipelines (the passes `mlir-fdt compile` runs, in its order):")
    lines.append(f"  fdt-prepare  = {','.join(named_pipeline('fdt-prepare', {}))}")
    lines.append(f"  fdt-lower{{planner=best alignment=16 kernels=scalar}}  = "
                 f"{','.join(named_pipeline('fdt-lower', {}))}")
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
        elements = expand_named_pipelines([e for p in args.pipeline for e in parse_pipeline(p)] +
                                          [e for p in flag_pipeline for e in parse_pipeline(p)])
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
