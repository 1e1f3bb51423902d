"""The virtual printer: a thread on the pty master that answers status, prints, and takes test faults."""

from __future__ import annotations

import enum
import os
import select
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from PIL import Image

from drivers.escpos import commands
from drivers.escpos.profiles import DOTS_PER_MM, LINE_SPACING_DOTS, PrinterProfile
from harness.printer import parser as p
from harness.printer.hostile import Misbehaviour, Trigger, automatic_status, interleaved
from harness.printer.render import Head, stack_strips


class EventKind(enum.StrEnum):
    RECEIVED = "received"
    STATUS_ANSWERED = "status_answered"
    BARRIER_ANSWERED = "barrier_answered"
    PROCESS_ID_ANSWERED = "process_id_answered"
    UNSOLICITED_SENT = "unsolicited_sent"
    POWER_CYCLED = "power_cycled"
    JOB_LOST = "job_lost"
    HUNG_UP = "hung_up"
    PAPER_END = "paper_end"
    PAGE_CUT = "page_cut"
    PAGE_TORN = "page_torn"
    BUFFER_CLEARED = "buffer_cleared"
    UNKNOWN_COMMAND = "unknown_command"


@dataclass(frozen=True)
class PrinterEvent:
    kind: EventKind
    detail: str


@dataclass(frozen=True)
class PrintedPage:
    """One piece of paper that came out: cut at the end of a job, or torn off when the paper ran out."""

    image: Image.Image
    png: Path | None
    complete: bool
    job: bytes
    """The bytes, as received, of every command that went into this page."""


class VirtualPrinter:
    """Owns the pty master. Test handle: paper, cover, offline, error, unplug, baud pacing, and hostile line
    behaviour (stray bytes, power cycles, lost jobs, lying sensors, XON/XOFF, hang-up); pages and events."""

    def __init__(self, master_fd: int, slave_fd: int, profile: PrinterProfile, out_dir: Path | None) -> None:
        self._master, self._slave = master_fd, slave_fd
        self.profile = profile
        self._out_dir = out_dir
        self._lock = threading.Condition()
        self._tokenizer = p.Tokenizer()
        self._queue: deque[tuple[p.BufferedCommand, bytes]] = deque()
        self._head = Head(profile.dots_per_line)
        self._strips: list[Image.Image] = []
        self._job = bytearray()
        self._paper_dots: int | None = None
        self._near_end_dots = 0
        self._cover_open = self._offline = self._error = self._unplugged = False
        self._paper_end = False
        self._baud: int | None = None
        self._unplug_at: int | None = None
        self._hostile = Misbehaviour()
        self._hung_up = self._master_closed = False
        self._last_confirmation = bytearray()
        self.pages: list[PrintedPage] = []
        self.events: list[PrinterEvent] = []
        self.job_bytes_received = 0
        self._running = True
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"virtual-printer-{profile.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close both ends of the pseudo-terminal; stopping twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._running, self._closed = False, True
        if self._thread.is_alive():
            self._thread.join()
        if not self._master_closed:
            os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> VirtualPrinter:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def load_paper(self, mm: float | None = None, near_end_below_mm: float = 0.0) -> None:
        """A new roll: `mm` of paper (None: endless); the near-end sensor trips below `near_end_below_mm`."""
        with self._lock:
            self._paper_dots = None if mm is None else int(mm * DOTS_PER_MM)
            self._near_end_dots = int(near_end_below_mm * DOTS_PER_MM)
            self._paper_end = self._paper_dots == 0
            self._lock.notify_all()

    def set_cover_open(self, is_open: bool) -> None:
        with self._lock:
            self._cover_open = is_open
            self._lock.notify_all()

    def set_offline(self, offline: bool) -> None:
        with self._lock:
            self._offline = offline
            self._lock.notify_all()

    def set_error(self, error: bool) -> None:
        """An unrecoverable mechanical error: answers status, prints nothing."""
        with self._lock:
            self._error = error

    def set_unplugged(self, unplugged: bool) -> None:
        """Cable pulled: everything sent is lost and nothing answers."""
        with self._lock:
            self._unplugged = unplugged

    def unplug_after(self, job_bytes: int) -> None:
        """Pull the cable once `job_bytes` more bytes of print data have arrived (mid-job, deterministically)."""
        with self._lock:
            self._unplug_at = self.job_bytes_received + job_bytes

    def pace_at_baud(self, baud: int | None) -> None:
        """Take bytes no faster than a real serial line at `baud` (None: as fast as they come)."""
        with self._lock:
            self._baud = baud

    def send_after(self, job_bytes: int, data: bytes) -> None:
        """Send `data` unasked once `job_bytes` more bytes of print data have arrived (0: at once)."""
        self._trigger(job_bytes, "send", data)

    def power_cycle_after(self, job_bytes: int, hello: bytes = b"\x00") -> None:
        """Lose power once `job_bytes` more bytes have arrived: everything received and not yet printed is
        gone, the receive side starts afresh, and `hello` (a 00 on many models) goes out on power-up."""
        self._trigger(job_bytes, "power_cycle", hello)

    def hang_up_after(self, job_bytes: int) -> None:
        """Hang up the line (close the pty master: the driver's end gets EIO) after `job_bytes` more bytes."""
        self._trigger(job_bytes, "hang_up")

    def hang_up(self) -> None:
        with self._lock:
            self._do_hang_up()
            self._lock.wait_for(lambda: self._master_closed or not self._thread.is_alive(), 2.0)

    def lose_next_job(self, replay_last_confirmation: bool = False) -> None:
        """Silently drop the print data of the next job, its completion requests included (up to and with
        the next GS r). With `replay_last_confirmation`, answer them with the previous job's answers."""
        with self._lock:
            self._hostile.lose_next_job = True
            self._hostile.replay_last_confirmation = replay_last_confirmation

    def lie_about_paper_end(self, lying: bool = True) -> None:
        """When the roll ends: tear, skip the rest of the printing, still answer the completion requests
        (GS r 1 with its paper-end bits set, GS ( H with the id), and tell DLE EOT the paper is present."""
        with self._lock:
            self._hostile.lying_paper_sensor = lying

    def interleave_flow_control(self, on: bool = True) -> None:
        """Wrap every answer in XOFF ... XON, with an XON XOFF pair between each two of its bytes."""
        with self._lock:
            self._hostile.interleave_flow_control = on

    def hold_line(self, held: bool) -> None:
        """XOFF (receive buffer full: stop printing, ask the host to stop sending) or XON (carry on)."""
        with self._lock:
            self._hostile.held = held
            self._write(bytes((commands.XOFF if held else commands.XON,)))
            self._lock.notify_all()

    @property
    def job_bytes_while_held(self) -> int:
        """Print data that arrived while the line was held with XOFF (a driver that obeys sends none)."""
        with self._lock:
            return self._hostile.job_bytes_while_held

    def automatic_status(self) -> bytes:
        """The ASB message this printer would send now."""
        with self._lock:
            return automatic_status(offline=self._stalled(), cover_open=self._cover_open, error=self._error,
                                    near_end=self._near_end(), paper_end=self._paper_end)

    def wait_for_pages(self, count: int, timeout_s: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.pages) >= count, timeout_s)

    def events_of(self, kind: EventKind) -> list[PrinterEvent]:
        with self._lock:
            return [event for event in self.events if event.kind == kind]

    def _trigger(self, job_bytes: int, action: str, data: bytes = b"") -> None:
        with self._lock:
            self._hostile.triggers.append(Trigger(self.job_bytes_received + job_bytes, action, data))
            self._fire()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._running:
                    return
                baud, hung_up = self._baud, self._hung_up
                if hung_up and not self._master_closed:
                    os.close(self._master)
                    self._master_closed = True
                    self._lock.notify_all()
            if hung_up:
                time.sleep(0.02)
                continue
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if ready:
                chunk = max(1, baud // 100) if baud else 4096
                try:
                    data = os.read(self._master, chunk)
                except OSError:
                    data = b""
                if baud and data:
                    time.sleep(len(data) * 10 / baud)
                self._receive(data)
            with self._lock:
                self._work()

    def _receive(self, data: bytes) -> None:
        with self._lock:
            if self._unplugged or self._hung_up or not data:
                return
            for command, raw in self._tokenizer.feed_raw(data):
                match command:
                    case p.RealTimeStatus():
                        self._answer(bytes((self._status_byte(command.request),)), EventKind.STATUS_ANSWERED)
                    case p.ClearBuffers():
                        self._queue.clear()
                        self._head.line.clear()
                        self._answer(commands.CLEAR_RESPONSE, EventKind.BUFFER_CLEARED)
                    case _ if self._unplug_at is not None and self.job_bytes_received + len(raw) > self._unplug_at:
                        self._unplugged, self._unplug_at = True, None
                        return
                    case _ if self._hostile.lose_next_job:
                        self._lose(command)
                    case _:
                        self._queue.append((command, raw))
                        self.job_bytes_received += len(raw)
                        self._hostile.job_bytes_while_held += len(raw) if self._hostile.held else 0
                        self._fire()
                if self._hung_up or self._unplugged:
                    return

    def _lose(self, command: p.BufferedCommand) -> None:
        if not isinstance(command, p.TransmitStatus):
            return
        self._hostile.lose_next_job = False
        self.events.append(PrinterEvent(EventKind.JOB_LOST, ""))
        if self._hostile.replay_last_confirmation:
            self._answer(bytes(self._last_confirmation), EventKind.UNSOLICITED_SENT)

    def _fire(self) -> None:
        for trigger in self._hostile.due(self.job_bytes_received):
            match trigger.action:
                case "send":
                    self._write(trigger.data)
                    self.events.append(PrinterEvent(EventKind.UNSOLICITED_SENT, trigger.data.hex()))
                case "power_cycle":
                    self._queue.clear()
                    self._tokenizer = p.Tokenizer()
                    self._head.reset()
                    self.events.append(PrinterEvent(EventKind.POWER_CYCLED, trigger.data.hex()))
                    self._write(trigger.data)
                case _:
                    self._do_hang_up()

    def _do_hang_up(self) -> None:
        """From now on nothing is written; the printer thread, the master's only reader, closes it."""
        if not self._hung_up:
            self._hung_up = True
            self.events.append(PrinterEvent(EventKind.HUNG_UP, ""))

    def _answer(self, data: bytes, kind: EventKind) -> None:
        self._write(interleaved(data) if self._hostile.interleave_flow_control else data)
        self.events.append(PrinterEvent(kind, data.hex()))

    def _write(self, data: bytes) -> None:
        if not self._hung_up and not self._closed and data:
            os.write(self._master, data)

    def _stalled(self) -> bool:
        paper_end = self._paper_end and not self._hostile.lying_paper_sensor
        return paper_end or self._cover_open or self._offline or self._error

    def _near_end(self) -> bool:
        return self._paper_dots is not None and self._paper_dots < self._near_end_dots

    def _status_byte(self, request: int) -> int:
        value = 0x12
        near_end = self._near_end()
        paper_end = self._paper_end and not self._hostile.lying_paper_sensor
        match request:
            case 1:
                value |= 0x08 if self._stalled() else 0
            case 2:
                value |= (0x04 if self._cover_open else 0) | (0x20 if paper_end else 0)
                value |= 0x40 if self._error else 0
            case 3:
                value |= 0x20 if self._error else 0
            case 4:
                value |= (0x0C if near_end or paper_end else 0) | (0x60 if paper_end else 0)
        return value

    def _work(self) -> None:
        while self._queue and not self._stalled() and not self._hostile.held:
            command, raw = self._queue.popleft()
            self._job += raw
            self._execute(command)

    def _execute(self, command: p.BufferedCommand) -> None:
        head = self._head
        if self._paper_end and not isinstance(command, p.TransmitStatus | p.ProcessIdRequest):
            return
        match command:
            case p.Initialize():
                head.reset()
                self._last_confirmation.clear()
            case p.SetAlign():
                head.align = command.code
            case p.SetBold():
                head.bold = command.on
            case p.SetSize():
                head.size = (command.width, command.height)
            case p.Text():
                head.add_text(command.data.decode("ascii"))
            case p.LineFeed():
                self._advance(head.print_line())
            case p.FeedLines():
                if head.line:
                    self._advance(head.print_line())
                self._advance(Image.new("1", (head.width_dots, command.lines * LINE_SPACING_DOTS), 1))
            case p.RasterImage():
                self._advance(head.raster(command.width_bytes, command.height_dots, command.data))
            case p.QrFunction():
                self._qr(command)
            case p.Cut():
                self._finish_page(complete=True)
            case p.TransmitStatus():
                answer = bytes(((0x03 if self._near_end() else 0) | (0x0C if self._paper_end else 0),))
                self._last_confirmation += answer
                self._answer(answer, EventKind.BARRIER_ANSWERED)
            case p.ProcessIdRequest():
                answer = commands.PROCESS_ID_RESPONSE + command.process_id + bytes((commands.RESPONSE_END,))
                self._last_confirmation = bytearray(answer)
                self._answer(answer, EventKind.PROCESS_ID_ANSWERED)
            case p.Unknown():
                self.events.append(PrinterEvent(EventKind.UNKNOWN_COMMAND, command.data.hex()))
            case _:
                assert_never(command)

    def _qr(self, command: p.QrFunction) -> None:
        match command.function:
            case 0x43:
                self._head.qr_module = command.parameters[0]
            case 0x45:
                self._head.qr_level = command.parameters[0]
            case 0x50:
                self._head.qr_data = command.parameters[1:]
            case 0x51:
                self._advance(self._head.qr())

    def _advance(self, strip: Image.Image) -> None:
        """Move paper under the head; when the roll ends, the printed part is torn off and printing stops."""
        if self._paper_dots is not None and strip.height > self._paper_dots:
            self._strips.append(strip.crop((0, 0, strip.width, self._paper_dots)))
            self._paper_dots = 0
            self._paper_end = True
            self.events.append(PrinterEvent(EventKind.PAPER_END, f"after page {len(self.pages)}"))
            self._finish_page(complete=False)
            return
        if self._paper_dots is not None:
            self._paper_dots -= strip.height
        self._strips.append(strip)

    def _finish_page(self, complete: bool) -> None:
        image = stack_strips(self._strips, self.profile.dots_per_line)
        png: Path | None = None
        if self._out_dir is not None:
            png = self._out_dir / f"page-{len(self.pages) + 1:03d}{'' if complete else '-torn'}.png"
            image.save(png, optimize=True)
        self.pages.append(PrintedPage(image, png, complete, bytes(self._job)))
        self.events.append(PrinterEvent(EventKind.PAGE_CUT if complete else EventKind.PAGE_TORN, str(png)))
        self._strips, self._job = [], bytearray()
        self._lock.notify_all()
