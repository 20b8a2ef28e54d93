"""User-facing errors: the CLI prints `error: <message>` and exits non-zero, never a traceback."""


class FdtError(Exception):
    """An error the user can act on (bad input, unsupported op, missing tool)."""

    exit_code = 1


class ToolError(FdtError):
    """An external tool (iree-compile, arm-none-eabi-gcc, qemu, ...) failed."""

    def __init__(self, tool: str, returncode: int, command: list[str], stderr: str, hint: str = ""):
        self.tool, self.returncode, self.command, self.stderr, self.hint = tool, returncode, command, stderr, hint
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        msg = f"{tool} failed with exit code {returncode}\n  command: {' '.join(command)}\n{tail}"
        if hint:
            msg += f"\n  hint: {hint}"
        super().__init__(msg)


class ToolMissing(FdtError):
    """An external tool is not installed."""

    def __init__(self, tool: str, install_hint: str):
        super().__init__(f"'{tool}' was not found on PATH; {install_hint}")


class InternalError(FdtError):
    """A bug of mlir-fdt surfaced where it cannot be told apart from the user's input (a search worker,
    a child process): reported as `internal error`, exit status 2, like an uncaught exception."""

    exit_code = 2
