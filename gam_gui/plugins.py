"""User plugins that add attention blocks to the registry: ``--plugin my_blocks.py`` or an installed
package's entry point in the group ``gam_gui.blocks``.

A plugin is the user's own Python code, which they chose to trust by naming it: it is imported and
runs. A checkpoint never is: the plugin only supplies a class and its :class:`BlockEntry` (structures,
gates, ``run``), and the loader still builds that class empty and fills it with the file's tensors
after the same structure checks as for gam-gui's own entries. How to write one: CONTRIBUTING.md.

A plugin module declares its entries in ``GAM_GUI_BLOCKS`` (a list of ``BlockEntry``) or returns them
from ``gam_gui_blocks()``; an entry point names a ``BlockEntry``, a list of them, or a function
returning them. A kind or class name gam-gui already has is refused (``replace=True`` on the entry's
registration, done by the plugin itself through ``register``, is the explicit way to override).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gam_gui.models.attention import BlockEntry, RegistryError, register, unregister

LOGGER = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "gam_gui.blocks"


class PluginError(ValueError):
    """A plugin that cannot be used. ``path``: the file or entry point; ``kind``: the block, if known."""

    def __init__(self, path: str, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.path, self.kind = path, kind


def _entries_of(obj: Any, where: str) -> list[BlockEntry]:
    if callable(obj) and not isinstance(obj, BlockEntry):
        obj = obj()
    items = [obj] if isinstance(obj, BlockEntry) else list(obj) if isinstance(obj, Iterable) else None
    if not items or not all(isinstance(e, BlockEntry) for e in items):
        raise PluginError(where, f"{where}: declares no BlockEntry (GAM_GUI_BLOCKS or gam_gui_blocks())")
    return items


def _register_all(items: list[BlockEntry], where: str) -> list[str]:
    done: list[str] = []
    try:
        for e in items:
            register(dataclasses.replace(e, source=where))
            done.append(e.kind)
    except RegistryError as err:
        for kind in done:  # all or nothing: a half-registered plugin would be confusing
            unregister(kind)
        raise PluginError(where, f"{where}: {err}", kind=err.name) from err
    LOGGER.info("plugin %s registered %s", where, ", ".join(done))
    return done


def load_plugin(path: str | Path) -> list[str]:
    """Import the user's plugin file and register its entries; returns the kinds added."""
    p = Path(path)
    where = str(path)
    if not p.is_file():
        raise PluginError(where, f"{where}: no such plugin file")
    name = "gam_gui_plugin_" + hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise PluginError(where, f"{where}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the user's code: any failure is reported as theirs, in one line
        why = f"{type(err).__name__}: {str(err)[:200]}"
        raise PluginError(where, f"{where}: the plugin failed on import: {why}") from err
    decl = getattr(module, "GAM_GUI_BLOCKS", None) or getattr(module, "gam_gui_blocks", None)
    if decl is None:
        raise PluginError(where, f"{where}: declares no blocks (GAM_GUI_BLOCKS or gam_gui_blocks())")
    sys.modules.setdefault(name, module)
    return _register_all(_entries_of(decl, where), where)


def load_entry_points() -> list[str]:
    """Register the blocks of every installed ``gam_gui.blocks`` entry point; a broken one is logged
    and skipped (an installed package must not stop gam-gui from starting)."""
    from importlib.metadata import entry_points

    added: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {ep.name} ({ep.value})"
        try:
            added += _register_all(_entries_of(ep.load(), where), where)
        except Exception as err:  # noqa: BLE001 - a third-party package's failure is logged, not fatal
            LOGGER.warning("%s: not loaded: %s", where, str(err)[:200])
    return added
