"""Every use of Textual's private parts, in one place (written for Textual 8.2.8).

The render path reaches past Textual's public API twice, both for measured reasons
(bench/RESULTS.md): painting the meter, live line and status bar straight to the terminal,
and a compositor that renders only the changed rows. Each function here checks that the
private attribute it needs is there; when a Textual release renames one, it takes a plain,
public fallback (a normal refresh) and records the name in FALLBACKS, so the app keeps
working and tests/app/test_textual_hacks.py fails loudly under the pinned version. The
terminal driver's changes (an input thread that sleeps, output written from the loop) follow
the same rules in tui/terminal_driver.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from textual.geometry import Region
from textual.strip import Strip

log = logging.getLogger(__name__)

WRITTEN_FOR = "8.2.8"
FALLBACKS: set[str] = set()  # private names found missing at run time

try:  # Textual 8.2: textual._compositor holds the compositor and its update types
    from textual._compositor import Compositor, LayoutUpdate
except ImportError:  # pragma: no cover - only on a Textual that moved them
    Compositor = LayoutUpdate = None  # type: ignore[assignment,misc]
    FALLBACKS.add("textual._compositor")


try:  # the context variable behind every widget's .app
    from textual._context import active_app as _active_app
except ImportError:  # pragma: no cover
    _active_app = None  # type: ignore[assignment]
    FALLBACKS.add("textual._context.active_app")


def fallback(name: str) -> None:
    if name not in FALLBACKS:
        FALLBACKS.add(name)
        log.warning("Textual %s has no %s (written for %s): using the plain path",
                    _version(), name, WRITTEN_FOR)


def _version() -> str:
    import textual

    return getattr(textual, "__version__", "?")


def _has(obj: object, name: str, where: str) -> bool:
    if hasattr(obj, name):
        return True
    fallback(f"{where}.{name}")
    return False


# ------------------------------------------------------------------ direct painting


def adopt_app(app) -> None:
    """Make `app` the running task's active app, as in Textual's own tasks.

    The session starts before the app (audio first), so its tasks have none: there every
    widget's .app raised and caught a LookupError and walked the DOM, for each frame's event.
    """
    if _active_app is not None and _active_app.get(None) is not app:
        _active_app.set(app)



def frame_pending(app, screen) -> bool:
    """True while a batch update or a layout is pending: positions may be about to change."""
    if not (_has(app, "_batch_count", "App") and _has(screen, "_layout_required", "Screen")):
        return True
    return bool(app._batch_count or screen._layout_required)


def visible_widgets(screen) -> dict | None:
    """The compositor's map of visible widgets, front to back (a new dict on any change)."""
    compositor = getattr(screen, "_compositor", None)
    if compositor is None or not hasattr(compositor, "visible_widgets"):
        fallback("Screen._compositor.visible_widgets")
        return None
    return compositor.visible_widgets


def write_lines(app, screen, widget, lines: list[Strip], region: Region) -> bool:
    """Write `lines` over `region` through the app's output, as a partial frame would."""
    if LayoutUpdate is None or not (_has(app, "_display", "App") and _has(widget, "_styles_cache", "Widget")):
        return False
    widget._styles_cache.clear()  # a later frame renders the widget afresh
    app._display(screen, LayoutUpdate([[line] for line in lines], region))
    return True


def has_border_titles(widget) -> bool:
    """Whether the widget draws a border title or subtitle (Textual keeps them private)."""
    return bool(getattr(widget, "_border_title", None) or getattr(widget, "_border_subtitle", None))


# ------------------------------------------------------------------ the screen


class CroppingCompositor(Compositor or object):  # type: ignore[misc]
    """Textual's partial update asks every widget whose *clip* (its container's area) overlaps
    the changed area to render all of its visible lines, and then keeps only the changed
    ones: each 30 Hz meter repaint rendered all seven widgets of the screen, most of the
    app's CPU (bench/RESULTS.md). Here a widget renders only its lines on the changed rows.
    The picture is the same (tests/app/test_compositor.py)."""

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)  # type: ignore[misc]
            return
        intersection = Region.intersection
        top, bottom = crop.y, crop.bottom
        for widget, (region, clip) in self.visible_widgets.items():  # type: ignore[attr-defined]
            # Whole rows: the update writes whole chops (widget edge to widget edge) of a row.
            clip = intersection(clip, Region(clip.x, top, clip.width, bottom - top))
            x, y, width, height = intersection(region, clip)
            if width and height:
                yield region, clip, widget.render_lines(Region(x - region.x, y - region.y, width, height))


def install_cropping_compositor(screen) -> None:
    """Give the screen the compositor that renders only the changed rows."""
    if Compositor is None or not hasattr(Compositor, "_get_renders") or not _has(screen, "_compositor", "Screen"):
        fallback("Compositor._get_renders")
        return
    screen._compositor = CroppingCompositor()


def prompt_screen_updates(screen) -> None:
    """Let a change be drawn at the next frame, not one frame later (a Textual quirk).

    Textual's screen update timer (60 Hz, paused while nothing changes) skips one frame
    too many when it wakes up late (textual.timer.Timer._run, `count = int(... + 1)`),
    so a caption arriving just after a screen update waited 17-33 ms for its frame, not
    0-17 (bench/RESULTS.md, display latency). Without skipping, a paused timer fires as
    soon as something changes.
    """
    timer = getattr(screen, "_update_timer", None)
    if timer is None:
        return  # not mounted yet
    if _has(timer, "_skip", "Timer"):
        timer._skip = False


# ------------------------------------------------------------------ errors


def _dispatch_guard(original):
    """Textual ends a widget's message loop, and then the app, at the first exception in a
    handler (MessagePump._process_messages_loop). This wrapper offers the error to the app's
    `contain_error(error, where, fatal)` first; only if that declines does Textual see it.
    An error in Compose or Mount is fatal: a widget that failed to build is not one to go on
    with (the app then ends cleanly)."""
    from asyncio import CancelledError

    from textual import events

    async def _dispatch_message(self, message) -> None:
        try:
            await original(self, message)
        except CancelledError:
            raise
        except Exception as error:
            try:
                contain = getattr(self.app, "contain_error", None)
            except Exception:  # noqa: BLE001 - no active app: Textual's own handling
                contain = None
            building = isinstance(message, (events.Compose, events.Mount))
            where = f"{type(self).__name__} handling {type(message).__name__}"
            if contain is None or not contain(error, where, fatal=building):
                raise

    _dispatch_message.captioner_guard = True  # type: ignore[attr-defined]
    return _dispatch_message


def contain_handler_errors() -> None:
    """Route exceptions in message handlers (keys, mouse, messages, actions) through the app."""
    from textual.app import App
    from textual.message_pump import MessagePump

    _has(App, "_handle_exception", "App")  # RoutedErrors overrides it
    original = getattr(MessagePump, "_dispatch_message", None)
    if original is None:
        fallback("MessagePump._dispatch_message")
        return
    if not getattr(original, "captioner_guard", False):
        MessagePump._dispatch_message = _dispatch_guard(original)  # type: ignore[method-assign]


class RoutedErrors:
    """App mixin: every other unhandled exception (timers, callbacks, layout, rendering, a
    worker) goes to `contain_error(error, where)` before Textual's App._handle_exception,
    which prints a traceback and exits."""

    def _handle_exception(self, error: Exception) -> None:
        if not self.contain_error(error, "the app"):  # type: ignore[attr-defined]
            super()._handle_exception(error)  # type: ignore[misc]


def _forward_guard(original):
    from textual import events

    def _forward_event(self, event) -> None:
        if isinstance(event, events.MouseDown):
            widget, _ = self.get_widget_and_offset_at(event.x, event.y)
            if widget is not None and widget is not self and widget.parent is None:
                return  # removed since the last frame (a toast, a footer key): nothing to press
        original(self, event)

    _forward_event.captioner_guard = True  # type: ignore[attr-defined]
    return _forward_event


def ignore_presses_on_removed_widgets() -> None:
    """Textual 8.2.8 raises on a mouse press over a widget removed since the last frame
    (Screen._forward_event: `container.region` of its parent, None): found by the monkey
    test, a click as a toast times out or the footer redraws its keys."""
    from textual.screen import Screen

    original = getattr(Screen, "_forward_event", None)
    if original is None:
        fallback("Screen._forward_event")
        return
    if not getattr(original, "captioner_guard", False):
        Screen._forward_event = _forward_guard(original)  # type: ignore[method-assign]


def _dismiss_guard(original):
    from textual.await_complete import AwaitComplete

    def dismiss(self, result=None):
        try:
            top = self.app.screen_stack[-1]
        except Exception:  # noqa: BLE001 - no app or no stack: Textual decides
            top = self
        if top is not self:
            return AwaitComplete.nothing()  # dismissed already: popping again took the screen below
        return original(self, result)

    dismiss.captioner_guard = True  # type: ignore[attr-defined]
    return dismiss


def dismiss_only_the_top_screen() -> None:
    """Textual 8.2.8's Screen.dismiss pops the top screen, whichever it is: the command palette
    dismissed twice (two clicks on its background before it is gone) popped the captioning
    screen too, then failed with ScreenStackError (found by the monkey test)."""
    from textual.screen import Screen

    if not getattr(Screen.dismiss, "captioner_guard", False):
        Screen.dismiss = _dismiss_guard(Screen.dismiss)  # type: ignore[method-assign]


def _option_click_guard(original):
    async def _on_click(self, event) -> None:
        option = event.style.meta.get("option")
        if option is not None and not 0 <= option < self.option_count:
            return  # the list changed since the frame that was clicked
        await original(self, event)

    _on_click.captioner_guard = True  # type: ignore[attr-defined]
    return _on_click


def _page_guard(original):
    def _move_page(self, direction) -> None:
        lines = getattr(self, "_index_to_line", None)  # option index -> first line
        if lines is not None and (self.highlighted or 0) not in lines:
            return  # options added since the last layout: no lines to page over yet
        original(self, direction)

    _move_page.captioner_guard = True  # type: ignore[attr-defined]
    return _move_page


def ignore_clicks_on_stale_options() -> None:
    """Textual 8.2.8's OptionList takes the clicked option's index from the last frame: a click
    as the command palette refills its list raised IndexError; and PageUp/PageDown before the
    refilled list's first layout raised KeyError (both found by the monkey test)."""
    from textual.widgets import OptionList

    for name, guard in (("_on_click", _option_click_guard), ("_move_page", _page_guard)):
        original = getattr(OptionList, name, None)
        if original is None:
            fallback(f"OptionList.{name}")
        elif not getattr(original, "captioner_guard", False):
            setattr(OptionList, name, guard(original))
