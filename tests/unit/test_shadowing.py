"""No attribute of our widgets, screens or app hides a Textual member it does not mean to replace.

`CaptionLog.query = ""` hid DOMNode.query(): a double-click (select all, which queries the
widget) crashed the app. This reads every class in tui/app.py, tui/screens and tui/widgets,
collects what it sets (`self.x = ...` anywhere in its methods, class attributes, methods) and
checks each name against the Textual classes it inherits from.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from textual.message_pump import MessagePump

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "tui/app.py", *sorted((ROOT / "tui/screens").glob("*.py")),
         *sorted((ROOT / "tui/widgets").glob("*.py"))]

# Textual methods our classes replace on purpose (extension points).
INTENDED_OVERRIDES = {
    "__init__", "compose", "render_line", "get_selection", "selection_updated", "watch_scroll_y",
    "notify_style_update", "exit", "action_quit",
}


def _self_assignments(cls_node: ast.ClassDef) -> set[str]:
    names = set()
    for node in ast.walk(cls_node):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    names.add(t.attr)
    return names


def _body_names(cls_node: ast.ClassDef) -> tuple[set[str], set[str]]:
    """(methods, class attributes) defined in the class body."""
    methods, attrs = set(), set()
    for item in cls_node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.add(item.name)
        elif isinstance(item, ast.Assign):
            attrs |= {t.id for t in item.targets if isinstance(t, ast.Name)}
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            attrs.add(item.target.id)
    return methods, attrs


def _textual_member(cls: type, name: str):
    for base in cls.__mro__:
        if base.__module__.split(".")[0] == "textual" and name in base.__dict__:
            return base, base.__dict__[name]
    return None, None


def _settable(member) -> bool:
    """A reactive or a property with a setter: assigning it is using Textual's API."""
    if isinstance(member, property):
        return member.fset is not None
    return hasattr(type(member), "__set__")


def _is_method(member) -> bool:
    return inspect.isfunction(member) or isinstance(member, (staticmethod, classmethod))


def _problems(cls: type, node: ast.ClassDef) -> list[str]:
    methods, attrs = _body_names(node)
    found = []
    for name in sorted(_self_assignments(node) | methods | attrs):
        base, member = _textual_member(cls, name)
        if base is None:
            continue
        where = f"{cls.__name__}.{name} hides {base.__name__}.{name}"
        if name in methods:
            if not _is_method(member):
                found.append(f"{where} (a {type(member).__name__}) with a method")
            elif name not in INTENDED_OVERRIDES:
                found.append(f"{where}(): an override not listed in INTENDED_OVERRIDES")
        elif name in attrs:
            if _is_method(member) or isinstance(member, property) or _settable(member):
                found.append(f"{where} (a {type(member).__name__}) with a class attribute")
        elif not _settable(member):
            found.append(f"{where} (a {type(member).__name__}) with an instance attribute")
    return found


def our_textual_classes():
    for path in FILES:
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text())):
            cls = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
            if inspect.isclass(cls) and issubclass(cls, MessagePump):
                yield cls, node


def test_the_check_sees_every_screen_widget_and_the_app():
    names = {cls.__name__ for cls, _ in our_textual_classes()}
    assert {"CaptionerApp", "MainScreen", "SaveDialog", "HelpScreen", "CaptionLog", "LiveCaption",
            "LevelMeter", "StatusBar"} <= names


def test_no_attribute_hides_a_textual_member():
    problems = [p for cls, node in our_textual_classes() for p in _problems(cls, node)]
    assert problems == []


def test_the_check_finds_the_double_click_bug():
    """The check itself: the old CaptionLog (self.query = "") is caught."""
    source = "class Shadowing:\n    def __init__(self):\n        self.query = ''\n        self.log = None\n"
    node = ast.parse(source).body[0]
    from tui.widgets.caption_log import CaptionLog

    assert _problems(CaptionLog, node) == [
        "CaptionLog.log hides MessagePump.log (a property) with an instance attribute",
        "CaptionLog.query hides DOMNode.query (a function) with an instance attribute",
    ]
