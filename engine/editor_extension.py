"""The VS Code / Cursor extension that ships inside pgshift: pack it into a .vsix and install it with the editor's CLI.

The package carries the bundled extension (one JavaScript file built by esbuild from editors/vscode/src, its
package.json, README and LICENSE) under engine/templates/editor/vscode. A .vsix is a zip of those files plus two
small XML manifests, so it is written here with the standard library: no Node toolchain on the user's machine.
The bytes are the same on every run (fixed timestamps and order), which keeps `pgshift init` idempotent.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from engine.errors import PgshiftError, UsageError

EDITORS = ("cursor", "code", "codium")  # the order they are looked for: Cursor is pgshift's first editor
CLI_TIMEOUT = 180.0

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension=".json" ContentType="application/json"/>'
    '<Default Extension=".js" ContentType="application/javascript"/>'
    '<Default Extension=".md" ContentType="text/markdown"/>'
    '<Default Extension=".txt" ContentType="text/plain"/>'
    '<Default Extension=".png" ContentType="image/png"/>'
    '<Default Extension=".vsixmanifest" ContentType="text/xml"/>'
    "</Types>\n"
)

# shipped file -> its place in the .vsix (where vsce would put it)
PAYLOAD = {
    "package.json": "extension/package.json",
    "extension.js": "extension/out/extension.js",
    "README.md": "extension/readme.md",
    "LICENSE": "extension/LICENSE.txt",
    "icon.png": "extension/icon.png",
}


class EditorExtensionError(PgshiftError):
    code = "editor-extension"


@dataclass(frozen=True)
class ShippedExtension:
    """The extension as packaged: its marketplace id, version and the files that make the .vsix."""

    publisher: str
    name: str
    version: str
    manifest: dict
    files: dict[str, bytes]  # path inside the .vsix -> content

    @property
    def id(self) -> str:
        return f"{self.publisher}.{self.name}"

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}.vsix"


def shipped_extension() -> ShippedExtension:
    """Read the packaged extension; an installation without it is broken, and says so."""
    folder = resources.files("engine").joinpath("templates", "editor", "vscode")
    files: dict[str, bytes] = {}
    for shipped, inside in PAYLOAD.items():
        entry = folder.joinpath(shipped)
        if entry.is_file():
            files[inside] = entry.read_bytes()
    if "extension/package.json" not in files or "extension/out/extension.js" not in files:
        raise EditorExtensionError("the editor extension is missing from this pgshift installation",
                                   help="reinstall pgshift (pip install --force-reinstall pgshift)")
    manifest = json.loads(files["extension/package.json"])
    return ShippedExtension(publisher=manifest["publisher"], name=manifest["name"], version=manifest["version"],
                            manifest=manifest, files=files)


def vsix_manifest(ext: ShippedExtension) -> str:
    """extension.vsixmanifest: the identity and assets the editor reads before it opens package.json."""
    m = ext.manifest
    repo = (m.get("repository") or {}).get("url", "") if isinstance(m.get("repository"), dict) else ""
    props = [("Microsoft.VisualStudio.Code.Engine", m.get("engines", {}).get("vscode", "*")),
             ("Microsoft.VisualStudio.Code.ExtensionDependencies", ""),
             ("Microsoft.VisualStudio.Code.ExtensionPack", ""),
             ("Microsoft.VisualStudio.Code.ExtensionKind", "workspace"),
             ("Microsoft.VisualStudio.Code.LocalizedLanguages", "")]
    if repo:
        props += [("Microsoft.VisualStudio.Services.Links.Source", repo),
                  ("Microsoft.VisualStudio.Services.Links.GitHub", repo)]
    assets = [("Microsoft.VisualStudio.Code.Manifest", "extension/package.json"),
              ("Microsoft.VisualStudio.Services.Content.Details", "extension/readme.md"),
              ("Microsoft.VisualStudio.Services.Content.License", "extension/LICENSE.txt"),
              ("Microsoft.VisualStudio.Services.Icons.Default", "extension/icon.png")]
    assets = [(kind, path) for kind, path in assets if path in ext.files]
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" '
        'xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">',
        "  <Metadata>",
        f"    <Identity Language=\"en-US\" Id={quoteattr(ext.name)} Version={quoteattr(ext.version)} "
        f"Publisher={quoteattr(ext.publisher)} />",
        f"    <DisplayName>{escape(m.get('displayName', ext.name))}</DisplayName>",
        f"    <Description xml:space=\"preserve\">{escape(m.get('description', ''))}</Description>",
        f"    <Tags>{escape(','.join(m.get('keywords', [])))}</Tags>",
        f"    <Categories>{escape(','.join(m.get('categories', [])))}</Categories>",
        "    <GalleryFlags>Public</GalleryFlags>",
        "    <Properties>",
        *(f"      <Property Id={quoteattr(k)} Value={quoteattr(v)} />" for k, v in props),
        "    </Properties>",
        *(["    <License>extension/LICENSE.txt</License>"] if "extension/LICENSE.txt" in ext.files else []),
        *(["    <Icon>extension/icon.png</Icon>"] if "extension/icon.png" in ext.files else []),
        "  </Metadata>",
        "  <Installation>",
        '    <InstallationTarget Id="Microsoft.VisualStudio.Code"/>',
        "  </Installation>",
        "  <Dependencies/>",
        "  <Assets>",
        *(f"    <Asset Type={quoteattr(k)} Path={quoteattr(p)} Addressable=\"true\" />" for k, p in assets),
        "  </Assets>",
        "</PackageManifest>",
    ]
    return "\n".join(lines) + "\n"


def vsix_bytes(ext: ShippedExtension) -> dict[str, bytes]:
    """Every entry of the .vsix, in the order they are written."""
    entries = {"[Content_Types].xml": CONTENT_TYPES.encode(), "extension.vsixmanifest": vsix_manifest(ext).encode()}
    entries.update(sorted(ext.files.items()))
    return entries


def write_vsix(folder: Path, ext: ShippedExtension | None = None) -> Path:
    """Write the .vsix into `folder` (same bytes every time) and return its path."""
    ext = ext or shipped_extension()
    target = folder / ext.file_name
    partial = target.with_name(target.name + ".partial")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as vsix:
            for name, data in vsix_bytes(ext).items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                vsix.writestr(info, data)
        partial.replace(target)
    except OSError as exc:
        raise EditorExtensionError(f"cannot write the extension to {target}: {exc.strerror or exc}",
                                   help=f"make {folder} writable, or run `pgshift editor install` elsewhere") from exc
    return target


# --- installing with the editor's command line ----------------------------------------------------------------


@dataclass(frozen=True)
class EditorCli:
    name: str  # cursor, code or codium
    program: str  # its path on PATH


@dataclass(frozen=True)
class InstallOutcome:
    """What happened in one editor: installed (was missing), upgraded (was older) or current (left alone)."""

    editor: EditorCli
    action: str
    version: str
    previous: str | None
    vsix: Path


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)


def find_editors(only: str | None = None, *, which: Callable[[str], str | None] = shutil.which) -> list[EditorCli]:
    """The editor CLIs on PATH, Cursor first; `only` narrows to one of them."""
    if only is not None and only not in EDITORS:
        raise UsageError(f"unknown editor {only!r}", help="choose one of: " + ", ".join(EDITORS))
    found = []
    for name in (only,) if only else EDITORS:
        program = which(name)
        if program:
            found.append(EditorCli(name, program))
    return found


def _version_key(version: str) -> tuple:
    parts = []
    for piece in version.split("-", 1)[0].split("."):
        parts.append(int(piece) if piece.isdigit() else -1)
    return tuple(parts)


def installed_version(editor: EditorCli, extension_id: str, run: Runner = _run) -> str | None:
    """The version of the extension the editor has installed, from `--list-extensions --show-versions`."""
    done = _call(editor, ["--list-extensions", "--show-versions"], run)
    for line in done.stdout.splitlines():
        ident, _, version = line.strip().partition("@")
        if ident.lower() == extension_id.lower():
            return version or None
    return None


def _call(editor: EditorCli, args: list[str], run: Runner) -> subprocess.CompletedProcess:
    argv = [editor.program, *args]
    try:
        done = run(argv)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EditorExtensionError(f"could not run `{editor.name} {' '.join(args)}`: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip().splitlines()
        raise EditorExtensionError(f"`{editor.name} {' '.join(args)}` failed (exit {done.returncode})"
                                   + (f": {detail[-1]}" if detail else ""))
    return done


def install_into(editor: EditorCli, vsix: Path, ext: ShippedExtension, run: Runner = _run) -> InstallOutcome:
    """Install the .vsix unless the editor has this version or a newer one already."""
    previous = installed_version(editor, ext.id, run)
    if previous is not None and _version_key(previous) >= _version_key(ext.version):
        return InstallOutcome(editor, "current", ext.version, previous, vsix)
    _call(editor, ["--install-extension", str(vsix)], run)
    return InstallOutcome(editor, "installed" if previous is None else "upgraded", ext.version, previous, vsix)


def manual_command(vsix: Path, editor: str | None = None) -> str:
    """The one command to type where no editor CLI is on PATH (Cursor's shell command is `cursor`)."""
    return f"{editor or 'cursor'} --install-extension {shlex.quote(str(vsix))}"
