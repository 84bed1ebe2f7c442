// pgshift for VS Code and Cursor: starts `pgshift lsp` for migration files and turns the palette commands into
// `workspace/executeCommand` requests, so the editor, the CLI and the AI assistant share one engine.

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import {
  DynamicFeature,
  ExecuteCommandParams,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RegistrationData,
  ServerOptions,
  StaticFeature,
  TransportKind,
} from "vscode-languageclient/node";

// The commands this extension contributes; each is sent to the server with the same id.
export const COMMANDS = [
  "pgshift.migrate",
  "pgshift.list",
  "pgshift.rollback",
  "pgshift.new",
  "pgshift.snapshot",
  "pgshift.verify",
] as const;
type PgshiftCommand = (typeof COMMANDS)[number];
const OURS = new Set<string>(COMMANDS);

let client: PgshiftLanguageClient | undefined;
let output: vscode.OutputChannel;

/**
 * vscode-languageclient registers every command the server advertises in `executeCommandProvider` as a VS Code
 * command. Ours are registered by this extension (they ask questions first), and registering the same id twice
 * fails, so the server's copies of our ids are filtered out; its other commands (code action fixes) stay.
 */
class PgshiftLanguageClient extends LanguageClient {
  public registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const dynamic = feature as DynamicFeature<{ commands?: string[] }>;
    if (dynamic.registrationType?.method === ExecuteCommandRequest.method) {
      const register = dynamic.register.bind(dynamic);
      dynamic.register = (data: RegistrationData<{ commands?: string[] }>) =>
        register({
          ...data,
          registerOptions: {
            ...data.registerOptions,
            commands: (data.registerOptions.commands ?? []).filter((c) => !OURS.has(c)),
          },
        });
    }
    super.registerFeature(feature);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("pgshift");
  context.subscriptions.push(output);
  for (const id of COMMANDS) {
    context.subscriptions.push(vscode.commands.registerCommand(id, () => runCommand(id)));
  }
  context.subscriptions.push(
    vscode.commands.registerCommand("pgshift.restartServer", async () => {
      await stopClient();
      await startClient();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("pgshift")) {
        await stopClient();
        await startClient();
      }
    }),
  );
  await startClient();
}

export async function deactivate(): Promise<void> {
  await stopClient();
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** `pgshift.path`, else the workspace's .venv, else `pgshift` on PATH. Relative paths are the workspace's. */
export function resolveExecutable(configured: string, folder: string | undefined): string {
  const windows = process.platform === "win32";
  if (configured.trim()) {
    const value = configured.trim();
    if (folder && !path.isAbsolute(value) && (value.includes("/") || value.includes("\\"))) {
      return path.join(folder, value);
    }
    return value;
  }
  if (folder) {
    const venv = windows
      ? path.join(folder, ".venv", "Scripts", "pgshift.exe")
      : path.join(folder, ".venv", "bin", "pgshift");
    if (fs.existsSync(venv)) {
      return venv;
    }
  }
  return "pgshift";
}

async function startClient(): Promise<void> {
  const config = vscode.workspace.getConfiguration("pgshift");
  const folder = workspaceFolder();
  const command = resolveExecutable(config.get<string>("path", ""), folder);
  const args = [...config.get<string[]>("serverArgs", []), "lsp"];
  const glob = config.get<string>("migrationsGlob", "**/migrations/**/*.sql");

  const run = { command, args, transport: TransportKind.stdio, options: { cwd: folder } };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", pattern: glob }],
    outputChannel: output,
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher(glob) },
  };
  client = new PgshiftLanguageClient("pgshift", "pgshift", serverOptions, clientOptions);
  output.appendLine(`Starting ${command} ${args.join(" ")}${folder ? ` in ${folder}` : ""}`);
  try {
    await client.start();
  } catch (error) {
    const message = `pgshift: could not start the language server (${command} ${args.join(" ")}): ${errorText(error)}`;
    output.appendLine(message);
    const choice = await vscode.window.showErrorMessage(message, "Open settings");
    if (choice) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "pgshift.path");
    }
  }
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      output.appendLine(`Stopping the language server: ${errorText(error)}`);
    }
  }
}

/** Collect what the command needs (asking before a migrate), then send it to the server. */
async function runCommand(id: PgshiftCommand): Promise<unknown> {
  const args = await argumentsFor(id);
  if (args === undefined) {
    return undefined; // the person cancelled
  }
  if (!client || !client.isRunning()) {
    vscode.window.showErrorMessage("pgshift: the language server is not running (see Output > pgshift).");
    return undefined;
  }
  const params: ExecuteCommandParams = { command: id, arguments: args };
  try {
    const result = await client.sendRequest(ExecuteCommandRequest.type, params);
    showResult(id, result);
    return result;
  } catch (error) {
    output.appendLine(`${id} failed: ${errorText(error)}`);
    output.show(true);
    vscode.window.showErrorMessage(`pgshift: ${errorText(error)}`);
    return undefined;
  }
}

/**
 * The arguments each command sends, as the language server reads them (server/lsp/commands.py); undefined means
 * the person cancelled. The server shows progress, results and errors itself, and asks before a rollback (with
 * the exact plan), so only migrate is confirmed here.
 */
async function argumentsFor(id: PgshiftCommand): Promise<unknown[] | undefined> {
  // The active document tells the server which project to act on (a repository can hold several).
  const where = activeUri();
  const scoped = (options: Record<string, unknown> = {}) => (where ? { ...options, uri: where } : options);
  switch (id) {
    case "pgshift.migrate": {
      const choice = await vscode.window.showWarningMessage(
        "Apply every pending migration to the database?",
        { modal: true, detail: "A dry run tries them in a transaction that is rolled back." },
        "Dry run",
        "Apply",
      );
      return choice === undefined ? undefined : [scoped({ dryRun: choice === "Dry run" })];
    }
    case "pgshift.rollback":
      return [scoped({ steps: 1 })];
    case "pgshift.new": {
      const description = await vscode.window.showInputBox({
        title: "New migration",
        prompt: "What does it change? A few words, e.g. add instagram url to business",
        validateInput: (value) => (/[a-z0-9]/i.test(value) ? undefined : "Describe the change in a few words"),
      });
      return description === undefined ? undefined : [description, scoped()];
    }
    case "pgshift.verify": {
      const version = currentMigrationVersion();
      return version ? [version, scoped()] : [scoped()];
    }
    default:
      return [scoped()];
  }
}

function activeUri(): string | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document && document.uri.scheme === "file" ? document.uri.toString() : undefined;
}

function currentMigrationVersion(): string | undefined {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || document.uri.scheme !== "file" || !document.fileName.endsWith(".sql")) {
    return undefined;
  }
  return path.basename(document.fileName, ".sql");
}

/** Results go to the output channel; `pgshift.list` brings it to the front, as a terminal would. */
function showResult(id: PgshiftCommand, result: unknown): void {
  const record = (typeof result === "object" && result !== null ? result : {}) as Record<string, unknown>;
  output.appendLine(`${id}:`);
  if (id === "pgshift.list" && Array.isArray(record["migrations"])) {
    output.appendLine(`  database: ${String(record["database"] ?? "?")}`);
    for (const item of record["migrations"] as Record<string, unknown>[]) {
      output.appendLine(`  ${String(item["state"] ?? "?").padEnd(8)} ${String(item["version"] ?? "?")}`);
    }
    output.show(true);
    return;
  }
  output.appendLine(typeof result === "string" ? result : JSON.stringify(result, null, 2) ?? "(no result)");
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
