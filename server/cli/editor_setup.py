"""Install the shipped VS Code / Cursor extension and tell the user what happened; shared by `init` and `editor`."""

from __future__ import annotations

from pathlib import Path

from server.cli.context import CliContext

VSIX_FOLDER = Path(".pgshift") / "editor"  # inside the project: .gitignore'd by `pgshift init`


def install_editor_extension(ctx: CliContext, root: Path, *, editor: str | None = None) -> tuple[int, dict]:
    """Install into the first editor CLI on PATH (Cursor, VS Code, VSCodium), or print how to do it by hand.

    Returns the exit code and the JSON summary. A failing editor CLI is reported with the manual way, not raised,
    so that `pgshift init` has done everything else it could.
    """
    from engine import editor_extension as ee
    try:
        ext = ee.shipped_extension()
        vsix = ee.write_vsix(root / VSIX_FOLDER, ext)
    except ee.EditorExtensionError as exc:
        ctx.say(f"Editor extension: {exc.message}" + (f" ({exc.help})" if exc.help else ""))
        return 1, {"editor": None, "action": "failed", "error": exc.message}
    found = ee.find_editors(editor)
    summary: dict = {"extension": ext.id, "version": ext.version, "vsix": str(vsix), "editor": None,
                     "action": "manual"}
    if not found:
        wanted = f"no `{editor}`" if editor else "no `cursor`, `code` or `codium`"
        ctx.say(f"Editor extension: {wanted} command on PATH, so it is not installed yet. Run")
        ctx.say(f"    {ee.manual_command(vsix, editor)}")
        ctx.say(f"  or in Cursor / VS Code: Command Palette > \"Extensions: Install from VSIX...\" > pick {vsix}")
        ctx.say("  (Cursor puts `cursor` on PATH with Command Palette > \"Shell Command: Install 'cursor' command\".)")
        return 0, summary
    chosen, others = found[0], found[1:]
    summary["editor"] = chosen.name
    try:
        outcome = ee.install_into(chosen, vsix, ext)
    except ee.EditorExtensionError as exc:
        ctx.say(f"Editor extension: {exc.message}. Install it by hand: "
                f"{chosen.name} --install-extension {vsix}")
        summary.update(action="failed", error=exc.message)
        return 1, summary
    summary.update(action=outcome.action, previous=outcome.previous)
    if outcome.action == "current":
        ctx.say(f"Editor extension: {ext.id} {outcome.previous} is already installed in {chosen.name}"
                f" ({chosen.program}); left alone.")
    elif outcome.action == "upgraded":
        ctx.say(f"Editor extension: upgraded {ext.id} {outcome.previous} -> {ext.version} in {chosen.name}"
                f" ({chosen.program}). Reload the editor window to use it.")
    else:
        ctx.say(f"Editor extension: installed {ext.id} {ext.version} into {chosen.name} ({chosen.program}). "
                "Reload the editor window to use it.")
    for other in others:
        ctx.say(f"  Also found {other.name}: `pgshift editor install --editor {other.name}` installs it there.")
    return 0, summary
