"""Set-up code the executor runs inside a Jupyter kernel (sent as source text).

It is executed in a private namespace in the kernel, never imported by the
host, and keeps its state in ``sys.modules["_codemode_kernel"]`` so user code
and ``reset()`` do not disturb it.  :func:`setup` is idempotent: the executor
calls it after the kernel starts, after every restart and whenever the
bindings change.  What it installs, and why:

* the ``generated`` bindings package, written to a private temporary folder
  put first on ``sys.path`` (stale ``generated.*`` modules are dropped);
* the bridge settings in ``generated.client`` and a run-id provider that reads
  the id of the execute request a call was made from (ipykernel keeps that in
  a context variable, so tasks a run leaves behind keep their run's id and the
  bridge can refuse them).  Threads would start with an empty context, and
  ipykernel's ``get_parent()`` then falls back to the *latest* request: a
  thread from run 1 would act as run 2.  So threads (and pool jobs) run in a
  copy of the context that started them, and the provider reads the context
  variable without that fallback;
* output from a stale context (a thread or task of an earlier run) is dropped
  in the kernel, never sent as the current run's;
* an output cap on ``sys.stdout``/``sys.stderr`` writes, so a run printing
  hundreds of megabytes sends at most the cap and a marker to the host;
* a formatter giving the last expression's value as JSON, when it is JSON data;
* a cap on what else a run sends: the last expression's value and display
  data (``display_formatter.format`` and ``display_pub.publish``), and error
  messages and tracebacks (``_showtraceback``, and the exception the execute
  reply is built from, replaced after the cell when its message is too long).
  A 120 MB value or exception message arrives as ``value_limit`` bytes and a
  marker saying how much was dropped, well under Jupyter's 10 MiB message limit;
* a SIGINT handler for cells ipykernel runs as tasks: ipykernel 7 turns SIGINT
  during an awaiting cell into a callback that may never run, so an interrupt
  would leave ``await asyncio.sleep(100)`` (or a slow tool call) running.  The
  handler cancels the cell's task instead, and raises ``CancelledError`` in
  code that is busy computing;
* no colours in tracebacks, and an optional address-space limit.
"""

from __future__ import annotations

from typing import Any

VALUE_MIME = "application/x-codemode-value+json"
TRUNCATION_TAG = "[codemode: output truncated"
VALUE_TRUNCATION_TAG = "[codemode: truncated"


def cap_text(text: str, limit: int, what: str = "value") -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, marker included, saying how much was dropped.

    Idempotent: a text it returns is within the limit, so capping it again changes nothing.
    """
    if len(text) <= limit // 4:
        return text
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    room = max(limit - min(200, limit // 2), 0)  # what the marker leaves for the text
    kept = data[:room].decode("utf-8", "ignore")
    dropped = len(data) - len(kept.encode("utf-8"))
    return f"{kept}\n{VALUE_TRUNCATION_TAG} {what} at {limit:,} bytes; {dropped:,} of {len(data):,} bytes dropped]"


def setup(params: dict[str, Any]) -> dict[str, Any]:
    import asyncio
    import atexit
    import importlib
    import json
    import os
    import shutil
    import signal
    import sys
    import tempfile
    import threading
    import types

    state: Any = sys.modules.get("_codemode_kernel")
    if state is None:
        state = types.ModuleType("_codemode_kernel")
        state.bindings_dir = None
        state.bridge = None
        state.hooks = False
        state.out_used = 0
        state.out_dropped = False
        state.cell_task = None
        state.live_run = None
        sys.modules["_codemode_kernel"] = state
    state.max_output = int(params.get("max_output", 1_000_000))
    state.value_limit = int(params.get("value_limit", 1_000_000))
    state.cap_text = cap_text

    # -- bindings ------------------------------------------------------------
    files = params.get("files")
    if files is not None:
        if state.bindings_dir is None:
            state.bindings_dir = tempfile.mkdtemp(prefix="codemode-bindings-")
            atexit.register(shutil.rmtree, state.bindings_dir, True)
        package = os.path.join(state.bindings_dir, "generated")
        shutil.rmtree(package, ignore_errors=True)
        for relative, text in files.items():
            target = os.path.join(package, *relative.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
        for name in [name for name in sys.modules if name == "generated" or name.startswith("generated.")]:
            del sys.modules[name]
        if state.bindings_dir not in sys.path:
            sys.path.insert(0, state.bindings_dir)
        importlib.invalidate_caches()

    import generated.client as client

    ip = get_ipython()  # type: ignore[name-defined]  # noqa: F821 - provided by IPython
    kernel = getattr(ip, "kernel", None)

    def current_request() -> str | None:
        """The execute request of the calling context; ``None`` when it has none (no fallback)."""
        if kernel is None:
            return None
        var = getattr(kernel, "_shell_parent", None)
        try:
            parent = var.get() if var is not None else kernel.get_parent()
        except LookupError:
            return None
        return ((parent or {}).get("header") or {}).get("msg_id")

    state.current_request = current_request
    client.set_run_id_provider(current_request)
    client.inherit_context_in_threads()
    bridge = params.get("bridge")
    if bridge is not None and (bridge != state.bridge or getattr(client, "_bridge", None) is None):
        client.configure_bridge(bridge.get("host"), bridge.get("port"), bridge["token"], path=bridge.get("path"))
        state.bridge = bridge

    # -- hooks (once per kernel process) --------------------------------------
    if not state.hooks:
        state.hooks = True

        # One cap counts each piece of text once, even when caps end up nested (IPython's
        # per-cell wrapper can sit between the cap of an earlier cell and this cell's).
        guard = threading.local()

        def stale() -> bool:
            """Whether the writing context belongs to a run other than the one in progress."""
            live = state.live_run
            if live is None:
                return False
            try:
                run = state.current_request()
            except Exception:
                return False
            return run is not None and run != live

        def limited(original: Any, text: str) -> Any:
            if state.out_dropped:
                return len(text)
            room = state.max_output - state.out_used
            size = len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
            if size <= room:
                state.out_used += size
                return original(text)
            state.out_dropped = True
            part = text[: max(room, 0)]
            if len(part.encode("utf-8", "replace")) > room:
                part = part.encode("utf-8", "replace")[: max(room, 0)].decode("utf-8", "ignore")
            marker = f"{TRUNCATION_TAG} at {state.max_output:,} bytes; the rest of this run's output was dropped]"
            original(f"{part}\n{marker}\n")
            return len(text)

        def cap(stream: Any) -> None:
            # Re-applied before every cell: IPython 9 wraps ``stream.write`` for the length of
            # each cell (its output history) and then restores what it found, which would drop
            # a cap installed once.  Wrapping whatever is there at cell start keeps ours outermost.
            if stream is None or getattr(stream.write, "_codemode_cap", False):
                return
            original = stream.write

            def write(text: Any) -> Any:
                if getattr(guard, "active", False) or not isinstance(text, str) or not text:
                    return original(text)
                if stale():
                    return len(text)
                guard.active = True
                try:
                    return limited(original, text)
                finally:
                    guard.active = False

            write._codemode_cap = True  # type: ignore[attr-defined]
            stream.write = write

        cap(sys.stdout)
        cap(sys.stderr)

        def internal(frame: Any) -> bool:
            name = frame.f_code.co_filename.replace("\\", "/")
            return "/asyncio/" in name or name.endswith("selectors.py")

        def on_sigint(signum: int, frame: Any) -> None:
            __tracebackhide__ = True
            task = state.cell_task
            if task is None or task.done():
                raise KeyboardInterrupt
            task.get_loop().call_soon_threadsafe(task.cancel)
            if frame is not None and not internal(frame):
                raise asyncio.CancelledError("interrupted")

        def pre_run_cell(*_: Any) -> None:
            state.out_used = 0
            state.out_dropped = False
            state.live_run = state.current_request()
            cap(sys.stdout)
            cap(sys.stderr)
            try:
                task = asyncio.current_task()
            except RuntimeError:
                task = None
            state.cell_task = task
            if task is not None:
                try:
                    signal.signal(signal.SIGINT, on_sigint)
                except ValueError:  # not the main thread (a subshell): leave ipykernel's handler
                    pass

        ip.events.register("pre_run_cell", pre_run_cell)

        def as_json(value: Any) -> str | None:
            try:
                text = json.dumps(value, allow_nan=False)
            except (TypeError, ValueError, RecursionError):
                return None
            return text if len(text) <= state.value_limit else None

        try:
            from IPython.core.formatters import BaseFormatter
            from traitlets import ObjectName, Unicode

            class ValueFormatter(BaseFormatter):  # type: ignore[misc]
                format_type = Unicode(VALUE_MIME)
                print_method = ObjectName("_repr_codemode_value_")
                _return_type = str

            formatter = ValueFormatter(parent=ip.display_formatter)
            for kind in (dict, list, str, int, float, bool, type(None), tuple):
                formatter.for_type(kind, as_json)
            ip.display_formatter.formatters[VALUE_MIME] = formatter
        except Exception:  # an IPython without formatters: values come back as repr only
            pass

        def cap_bundle(data: Any, what: str) -> Any:
            """A mime bundle with each entry within the limit: text cut with a marker, other data dropped."""
            if not isinstance(data, dict):
                return data
            limit = state.value_limit
            capped: dict[str, Any] = {}
            dropped: list[str] = []
            for mime, item in data.items():
                if mime == VALUE_MIME and isinstance(item, str) and len(item) > limit:
                    continue  # the host falls back to the (capped) text/plain
                if isinstance(item, str) and len(item) > limit // 4:
                    if mime == "text/plain":
                        capped[mime] = state.cap_text(item, limit, what)
                        continue
                    size = len(item.encode("utf-8", "replace"))
                    if size > limit:
                        dropped.append(f"{mime} ({size:,} bytes)")
                        continue
                elif not isinstance(item, str | int | float | bool | type(None)):
                    try:
                        size = len(json.dumps(item, default=repr))
                    except (TypeError, ValueError, RecursionError):
                        size = limit + 1
                    if size > limit:
                        dropped.append(f"{mime} ({size:,} bytes)")
                        continue
                capped[mime] = item
            if dropped:
                note = (
                    f"{VALUE_TRUNCATION_TAG} {what}: {', '.join(dropped)} dropped, over the limit of {limit:,} bytes]"
                )
                plain = capped.get("text/plain")
                capped["text/plain"] = f"{plain}\n{note}" if isinstance(plain, str) else note
            return capped

        formatter_format = ip.display_formatter.format

        def format_capped(*args: Any, **kwargs: Any) -> Any:
            format_dict, md_dict = formatter_format(*args, **kwargs)
            return cap_bundle(format_dict, "value"), md_dict

        ip.display_formatter.format = format_capped

        publisher = getattr(ip, "display_pub", None)
        if publisher is not None:
            publish = publisher.publish

            def publish_capped(data: Any, *args: Any, **kwargs: Any) -> Any:
                if stale():
                    return None
                return publish(cap_bundle(data, "display data"), *args, **kwargs)

            publisher.publish = publish_capped

        show_traceback = ip._showtraceback

        def showtraceback_capped(etype: Any, evalue: Any, stb: Any) -> Any:
            limit = state.value_limit
            if isinstance(stb, list):
                kept: list[str] = []
                used = 0
                for line in stb:
                    line = state.cap_text(str(line), max(limit - used, 0), "traceback")
                    kept.append(line)
                    used += len(line)
                    if used >= limit:
                        break
                stb = kept
            return show_traceback(etype, capped_exception(evalue), stb)

        ip._showtraceback = showtraceback_capped

        exc_info = getattr(ip, "_get_exc_info", None)
        if exc_info is not None:
            # Cap the exception before IPython formats it: formatting a 120 MB message makes
            # several copies of it, enough to hit the memory limit and lose the traceback.
            def exc_info_capped(*args: Any, **kwargs: Any) -> Any:
                etype, value, tb = exc_info(*args, **kwargs)
                shown = capped_exception(value)
                return (etype, value, tb) if shown is value else (type(shown), shown, tb)

            ip._get_exc_info = exc_info_capped

        def capped_exception(error: Any) -> Any:
            """``error``, or a stand-in of the same class name whose message fits the limit."""
            if not isinstance(error, BaseException):
                return error
            try:
                message = str(error)
            except Exception:
                return error
            shown = state.cap_text(message, state.value_limit, "error message")
            if shown is message:
                return error
            stand_in = None
            original = type(error)
            # A subclass of the original keeps isinstance checks (IPython's own, for SyntaxError) true;
            # a class whose layout forbids that gets a plain Exception of the same name.
            for bases in ((original,), (Exception,)):
                namespace = {"__module__": original.__module__, "__init__": lambda self, *args: None}
                namespace["__str__"] = lambda self, text=shown: text
                try:
                    kind: Any = type(original.__name__, bases, namespace)
                    stand_in = kind.__new__(kind)
                    BaseException.__init__(stand_in, shown)
                    break
                except Exception:
                    stand_in = None
            if stand_in is None:
                return error
            stand_in.__traceback__ = error.__traceback__
            stand_in.__cause__, stand_in.__context__ = error.__cause__, error.__context__
            stand_in.__suppress_context__ = error.__suppress_context__
            return stand_in

        def post_run_cell(result: Any) -> None:
            # ipykernel builds the execute reply from this exception (str(err)) after the cell.
            for name in ("error_in_exec", "error_before_exec"):
                error = getattr(result, name, None)
                if error is not None:
                    setattr(result, name, capped_exception(error))

        ip.events.register("post_run_cell", post_run_cell)

        try:
            ip.run_line_magic("colors", "nocolor")
        except Exception:
            pass

        quicken(ip, kernel)

    limit = params.get("memory_limit_mb")
    if limit:
        try:
            import resource

            wanted = int(limit) * 1024 * 1024
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                wanted = min(wanted, hard)
            # Soft and hard: the code this limits cannot raise it again (only lower it).
            resource.setrlimit(resource.RLIMIT_AS, (wanted, wanted))
        except (ImportError, ValueError, OSError):
            pass

    try:
        pgid = os.getpgid(0)
    except (AttributeError, OSError):
        pgid = None
    return {"pid": os.getpid(), "pgid": pgid, "bindings": state.bindings_dir, "python": sys.version.split()[0]}


def quicken(ip: Any, kernel: Any) -> None:
    """Take out what ipykernel spends on every cell for a front end this sandbox never has.

    Measured on ``1 + 1`` (a warm local kernel, 2 cores): 7.1 ms -> 4.4 ms.
    Each part is guarded: an ipykernel without the attribute is left as it is.

    * ipykernel flushes stdout and stderr six times per cell, and each flush
      waits for a round trip to its IOPub thread even when nothing was
      written.  Its own flush with nothing pending now returns at once (what
      was written still goes through the IOPub thread as before).  A flush
      the user's code asks for keeps its round trip: it also gives the
      message time to leave the process, and code that prints, flushes and
      then crashes (``os._exit``, a segfault) must still show that output.
    * It sleeps 0.5 ms before each execute reply, so that a client that stops
      at the reply has the output first.  The host waits for the kernel's
      ``idle`` on IOPub, which comes after all of a cell's output, so the
      sleep buys nothing here.
    * Its logger is at DEBUG behind a handler at WARNING, so every
      ``log.debug`` builds a record to throw away (several per message).  The
      logger now stops at the handlers' own level: the same lines get out.
    * IPython computes every mime type of a value (HTML, LaTeX, PNG, ...) and
      the host reads only ``text/plain`` and the JSON value: only those two are
      computed now, which also keeps a DataFrame's HTML or a figure's PNG off
      the wire.
    """
    import logging
    import sys

    log = getattr(kernel, "log", None)
    if isinstance(log, logging.Logger) and log.handlers:
        lowest = min(handler.level for handler in log.handlers)
        if log.level < lowest:
            log.setLevel(lowest)
    if isinstance(getattr(kernel, "_execute_sleep", None), float):
        kernel._execute_sleep = 0.0
    formatter = getattr(ip, "display_formatter", None)
    if formatter is not None and VALUE_MIME in getattr(formatter, "formatters", {}):
        formatter.active_types = ["text/plain", VALUE_MIME]
    stream_class = type(sys.stdout)
    flush = getattr(stream_class, "flush", None)
    wanted = ("echo", "_flush_pending", "_subprocess_flush_pending")
    if flush is None or getattr(flush, "_codemode_quick", False) or not all(hasattr(sys.stdout, n) for n in wanted):
        return

    def quick_flush(self: Any) -> None:
        if (
            self.echo is None
            and not self._flush_pending
            and not self._subprocess_flush_pending
            and sys._getframe(1).f_globals.get("__name__", "").startswith(("ipykernel.", "IPython."))
        ):
            return  # the kernel's own flush, nothing written since the last: no round trip to the IOPub thread
        flush(self)

    quick_flush._codemode_quick = True  # type: ignore[attr-defined]
    stream_class.flush = quick_flush


def kernel_source(params: dict[str, Any]) -> str:
    """The cell that runs :func:`setup` in a kernel, leaving no name in the user's namespace.

    Its value is the JSON of what :func:`setup` returned (as a ``str`` literal).
    """
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    return (
        "(lambda __cm_ns: (exec(compile("
        f"{source!r}, 'codemode-kernel-bootstrap', 'exec'), __cm_ns), "
        f"__import__('json').dumps(__cm_ns['setup']({params!r})))[1])"
        "({'__name__': '_codemode_kernel_setup'})"
    )


def reset_source() -> str:
    """The cell that clears the user's variables and keeps the bootstrap's state."""
    return "get_ipython().reset(new_session=False, aggressive=False)"
