// `desktop-agent`: the reference desktop agent as a command line, standing in
// for the Windows credential provider. Every command takes --api and --state;
// results go to stdout, the login screen (prompts, QR code, progress) and
// errors to stderr; the exit code is 0 on success and 1 with one
// `error: CODE: message` line otherwise, including when the workstation
// refused or could not apply the account instruction.
import { readFile } from "node:fs/promises";
import { hostname, release, type } from "node:os";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { AgentError } from "./agent-error.ts";
import { readStateFile } from "./agent-state.ts";
import { DEFAULT_API_URL, DesktopAgent, type DesktopConfigResult, type LoginEventRecord, type LoginResult } from "./desktop-agent.ts";
import { renderQrCode } from "./qr-code.ts";
import { elevationCommands, ELEVATION_OPTIONS, ELEVATION_USAGE, type ElevationValues } from "./elevation-cli.ts";
import { ElevationAgent } from "./elevation-agent.ts";
import { KEY_FAMILIES, type KeyFamily } from "./workstation-keys.ts";

const DEFAULT_STATE_FILE = "./desktop-agent.json";

const USAGE = `Usage: desktop-agent <command> [options]

Commands:
  enroll --token T [--tenant SLUG] [--hostname H] [--os O] [--keys ed25519|p256]
                         enroll this workstation with an install token (new keys: Ed25519 + X25519
                         by default, or P-256 for both); with --tenant, a token of another
                         organisation is refused
  enroll --config FILE [--hostname H] [--os O] [--keys ed25519|p256]
                         the same, with the API address, tenant and token from the configuration
                         file the portal offers beside a new install token
  config                 fetch the login screen's settings and branding (images cached by hash)
  login --username U [--password P] [--json] [--show-password]
                         log in with a directory password; without --password it is read from
                         standard input (without echo on a terminal). With the API out of reach,
                         or this workstation no longer enrolled, Windows' own sign-in: the
                         password is checked against the local account (a break-glass one too)
  qr-login [--json] [--show-password]
                         show a QR code and wait for the user to approve it on their phone
  events [--first N] [--json]
                         this workstation's recent login attempts, newest first
  accounts [--json]      the (simulated) local Windows accounts on this workstation
${ELEVATION_USAGE}
Options (every command):
  --api URL              GraphQL endpoint (default: the state file's, else ${DEFAULT_API_URL})
  --state FILE           state file with the workstation's keys and local accounts (default: ${DEFAULT_STATE_FILE})
  -h, --help             show this help

The unsealed password is never printed unless --show-password is given.
`;

const OPTIONS = {
  api: { type: "string" },
  state: { type: "string" },
  help: { type: "boolean", short: "h" },
  token: { type: "string" },
  tenant: { type: "string" },
  hostname: { type: "string" },
  os: { type: "string" },
  keys: { type: "string" },
  config: { type: "string" },
  username: { type: "string" },
  password: { type: "string" },
  json: { type: "boolean" },
  "show-password": { type: "boolean" },
  first: { type: "string" },
  ...ELEVATION_OPTIONS,
} as const;

type Values = ElevationValues & {
  api?: string;
  state?: string;
  help?: boolean;
  token?: string;
  tenant?: string;
  hostname?: string;
  os?: string;
  keys?: string;
  config?: string;
  username?: string;
  password?: string;
  json?: boolean;
  "show-password"?: boolean;
  first?: string;
};

interface Command {
  /** Options beyond --api/--state/--help. */
  options: (keyof Values)[];
  run(values: Values): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  enroll: { options: ["token", "tenant", "config", "hostname", "os", "keys"], run: enroll },
  config: {
    options: ["json"],
    async run(values) {
      const config = await (await load(values)).fetchConfig();
      if (values.json) return printJson(config);
      print(...describeConfig(config));
    },
  },
  login: {
    options: ["username", "password", "json", "show-password"],
    async run(values) {
      if (!values.username) throw usage("login needs --username");
      const agent = await load(values);
      const password = values.password ?? (await readPassword(`Password for ${values.username}: `));
      let result;
      try {
        result = await agent.passwordLogin(values.username, password);
      } catch (error) {
        if (!DesktopAgent.directoryUnavailable(error)) throw error;
        // Never a lock-out: without the directory, Windows checks its own account.
        process.stderr.write(`The directory cannot be asked (${(error as Error).message}); checking the local account instead.\n`);
        const local = agent.localPasswordLogin(values.username, password);
        if (values.json) return printJson({ ...local, outcome: "SIGNED_IN_LOCALLY" });
        return print(`username: ${printable(local.username)}`, `method: ${local.method}`, `administrator: ${local.administrator ? "yes" : "no"}`, "outcome: SIGNED_IN_LOCALLY");
      }
      showResult(result, values);
    },
  },
  "qr-login": {
    options: ["json", "show-password"],
    async run(values) {
      const agent = await load(values);
      // Ctrl-C on the login screen withdraws the code shown.
      const cancel = new AbortController();
      process.once("SIGINT", () => cancel.abort());
      const result = await agent.qrLogin({
        signal: cancel.signal,
        async onChallenge({ qrPayload, expiresAt }) {
          const code = await renderQrCode(qrPayload, { colour: Boolean(process.stderr.isTTY) });
          process.stderr.write(`${code}\nScan this code with the Latchkey authenticator (it expires at ${expiresAt}).\nCode: ${qrPayload}\nWaiting for approval...\n`);
        },
        onStatus(status) {
          const lines: Record<string, string> = {
            SCANNED: "Scanned on a phone; waiting for the decision...",
            APPROVED: "Approved on the phone.",
            DENIED: "Denied on the phone.",
            EXPIRED: "The code expired.",
          };
          if (lines[status]) process.stderr.write(`${lines[status]}\n`);
        },
      });
      showResult(result, values);
    },
  },
  events: {
    options: ["first", "json"],
    async run(values) {
      const first = values.first === undefined ? 20 : Number(values.first);
      if (!Number.isInteger(first) || first < 1 || first > 100) throw usage("--first must be a whole number from 1 to 100");
      const events = await (await load(values)).events(first);
      if (values.json) return printJson(events);
      if (events.length === 0) print("No login attempts on this workstation yet.");
      for (const event of events) print(describeEvent(event));
    },
  },
  ...elevationCommands({ load: (values) => load(values), print, printJson, printable, usage }),
  accounts: {
    options: ["json"],
    async run(values) {
      const store = (await readStateFile(statePathOf(values))).localAccounts;
      // The password hash stays in the state file; listing shows only that one is set.
      const accounts = store.accounts.map(({ passwordHash: _hash, ...account }) => account);
      if (values.json) return printJson({ policy: store.policy, accounts });
      print(`Password policy: at least ${store.policy.minLength} characters${store.policy.requireComplexity ? ", complexity required" : ""}.`);
      for (const account of accounts) {
        const parts = [
          account.name,
          account.fullName ? `"${printable(account.fullName)}"` : null,
          `groups: ${account.groups.join(", ") || "none"}`,
          account.managedBy ? `managed by Latchkey` : null,
          `password set ${account.passwordSetAt ?? "never"}`,
        ];
        print(parts.filter((part) => part !== null).join("  "));
      }
    },
  },
};

/**
 * The portal's agent configuration file: `{ latchkeyAgentConfiguration: 1, api, tenant,
 * installToken }`. It stands for --api, --tenant and --token together, so mixing it with
 * them is refused rather than guessed at.
 */
async function enrollmentFrom(values: Values): Promise<Values> {
  if (values.config === undefined) return values;
  if (values.token !== undefined || values.tenant !== undefined || values.api !== undefined) {
    throw usage("--config holds the API address, tenant and token: leave out --api, --tenant and --token");
  }
  let config: unknown;
  try {
    config = JSON.parse(await readFile(resolve(values.config), "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not a JSON file";
    throw new AgentError("BAD_CONFIG", `cannot read ${values.config}: ${reason}`);
  }
  const { latchkeyAgentConfiguration, api, tenant, installToken } = (config ?? {}) as Record<string, unknown>;
  if (latchkeyAgentConfiguration !== 1 || typeof api !== "string" || typeof tenant !== "string" || typeof installToken !== "string") {
    throw new AgentError("BAD_CONFIG", `${values.config} is not a Latchkey agent configuration (download it again from the portal)`);
  }
  return { ...values, api, tenant, token: installToken };
}

async function enroll(given: Values): Promise<void> {
  const values = await enrollmentFrom(given);
  if (!values.token) throw usage("enroll needs --token or --config");
  const keys = keysOf(values.keys);
  const statePath = statePathOf(values);
  const existing = await readStateFile(statePath).catch((error: unknown) => {
    if (error instanceof AgentError && error.code === "NO_STATE") return null;
    throw error;
  });
  if (existing?.workstation) {
    throw new AgentError("ALREADY_ENROLLED", `${statePath} is already enrolled as workstation ${existing.workstation.id}; use another --state file, or remove this workstation first`);
  }
  // A state file that never finished enrolling keeps its keys and local accounts.
  if (existing && values.keys !== undefined && (existing.signingKey.algorithm === "ED25519") !== (keys === "ed25519")) {
    throw usage(`${statePath} already holds ${existing.signingKey.algorithm === "ED25519" ? "ed25519" : "p256"} keys; leave out --keys or use another --state file`);
  }
  const agent = existing
    ? await DesktopAgent.fromState(existing, { statePath, ...(values.api === undefined ? {} : { apiUrl: graphqlEndpoint(values.api) }) })
    : await DesktopAgent.create({ apiUrl: values.api === undefined ? DEFAULT_API_URL : graphqlEndpoint(values.api), keys, statePath });
  const workstation = await agent.enroll({
    installToken: values.token,
    tenant: values.tenant ?? null,
    hostname: values.hostname ?? hostname(),
    os: values.os ?? `${type()} ${release()}`,
  });
  print(`Enrolled: workstation ${workstation.id} "${printable(workstation.name)}" is ${workstation.status}; state saved to ${statePath}.`);
  if (workstation.status === "PENDING") print("An admin must approve this workstation before anyone can log in here.");
  // Pins the tenant key break-glass passwords are sealed to now, while the enrollment is fresh;
  // if the API cannot answer yet, the first rotation pins it.
  await new ElevationAgent(agent).pinSealingKey().catch((error: Error) => process.stderr.write(`break-glass: the tenant key is not pinned yet: ${error.message}\n`));
}

function keysOf(value: string | undefined): KeyFamily {
  const family = (value ?? "ed25519").toLowerCase().replace("-", "") as KeyFamily;
  if (!KEY_FAMILIES.includes(family)) throw usage(`--keys must be ed25519 or p256, not "${value}"`);
  return family;
}

function showResult(result: LoginResult, values: Values): void {
  const refused = result.outcome === "REFUSED" || result.outcome === "PASSWORD_REJECTED";
  if (values.json) {
    const { password, ...rest } = result;
    printJson({ ...rest, reported: result.loginEvent !== null, ...(values["show-password"] ? { password } : {}) });
  } else {
    const { instruction } = result;
    print(
      `username: ${printable(instruction.username)}`,
      `full name: ${printable(instruction.fullName)}`,
      `action: ${instruction.action}`,
      `method: ${result.method}`,
      `attempt: ${instruction.attemptId}`,
      `expires: ${instruction.expiresAt}`,
      `outcome: ${result.outcome}`,
      `detail: ${printable(result.detail)}`,
      `reported: ${result.loginEvent ? "yes" : "not yet (the API could not be reached; sent with the next request)"}`,
    );
    if (values["show-password"]) print(`password: ${result.password}`);
  }
  if (refused) throw new AgentError(result.outcome === "REFUSED" ? "ACCOUNT_REFUSED" : "PASSWORD_REJECTED", result.detail);
}

function describeConfig(config: DesktopConfigResult): string[] {
  const image = (kind: "background" | "logo") => {
    const cached = config.branding[kind];
    if (!cached) return `${kind}: none`;
    return `${kind}: ${cached.file} (${cached.contentType}, ${cached.width}x${cached.height}, ${config.downloaded.includes(kind) ? "downloaded" : "cached"})`;
  };
  return [
    `workstation: ${config.workstation.id} "${printable(config.workstation.name)}" (${config.workstation.status})`,
    `tenant: ${printable(config.tenant.displayName)} (${config.tenant.slug})`,
    `desktop login: ${config.desktopLoginEnabled ? "enabled" : "disabled"}`,
    `method: ${config.method}${config.method === "PASSWORDLESS" ? ` (password fallback: ${config.passwordFallback ? "yes" : "no"})` : ""}`,
    `branding text: ${config.branding.text === null ? "none" : JSON.stringify(config.branding.text)}`,
    image("background"),
    image("logo"),
  ];
}

function describeEvent(event: LoginEventRecord): string {
  const parts = [
    event.createdAt,
    event.method,
    event.outcome === "FAILED" ? `FAILED (${event.reason ?? "unknown"})` : "SUCCEEDED",
    event.username === null ? "(unknown user)" : printable(event.username),
    event.accountOutcome ? `account: ${event.accountOutcome}${event.accountDetail ? ` (${printable(event.accountDetail)})` : ""}` : null,
    event.ip ? `from ${event.ip}` : null,
  ];
  return parts.filter((part) => part !== null).join("  ");
}

/**
 * The password: typed without echo on a terminal, or the first line of
 * standard input (a pipe, a test). Only the line ending is stripped: spaces
 * may be part of a password.
 */
async function readPassword(prompt: string): Promise<string> {
  const password = process.stdin.isTTY ? await readHidden(prompt) : await readFirstLine();
  if (password === null || password === "") throw new AgentError("NO_PASSWORD", "no password was entered");
  return password;
}

function readHidden(prompt: string): Promise<string | null> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolvePassword, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") {
          finish();
          return resolvePassword(value);
        }
        if (char === "\u0003") {
          finish();
          return reject(new AgentError("CANCELLED", "cancelled at the password prompt"));
        }
        if (char === "\u0004") {
          finish();
          return resolvePassword(value === "" ? null : value);
        }
        if (char === "\u007f" || char === "\b") value = [...value].slice(0, -1).join("");
        else if (char >= " ") value += char;
      }
    };
    stdin.on("data", onData);
  });
}

async function readFirstLine(): Promise<string | null> {
  const lines = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line.replace(/\r$/, "");
  } finally {
    lines.close();
    // Let the process end even if whoever feeds stdin keeps it open.
    process.stdin.pause();
    process.stdin.unref?.();
  }
  return null;
}

function statePathOf(values: Values): string {
  return resolve(values.state ?? DEFAULT_STATE_FILE);
}

function load(values: Values): Promise<DesktopAgent> {
  return DesktopAgent.load(statePathOf(values), values.api === undefined ? {} : { apiUrl: graphqlEndpoint(values.api) });
}

/** Text from the API shown in a terminal: control characters (escape sequences) become spaces. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

function print(...lines: string[]): void {
  for (const line of lines) process.stdout.write(`${line}\n`);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function usage(message: string): AgentError {
  return new AgentError("USAGE", `${message} (see desktop-agent --help)`);
}

/** The one stderr line for a failure: `error: CODE: message`, with a ValidationError's fields, a rate limit's wait, a lock's end. */
function errorLine(error: unknown): string {
  let code = "INTERNAL";
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof AgentError) {
    code = error.code;
    // A one-field ValidationError's message is that field's message: name the field instead of repeating it.
    if (error.fields?.length) message += ` (${error.fields.map((field) => (field.message === error.message ? field.path : `${field.path}: ${field.message}`)).join("; ")})`;
    if (error.retryAfterSeconds !== undefined) message += ` (retry in ${error.retryAfterSeconds} s)`;
    if (error.unlocksAt !== undefined) message += ` (unlocks at ${error.unlocksAt})`;
  } else if (typeof (error as { code?: unknown })?.code === "string" && String((error as { code: string }).code).startsWith("ERR_PARSE_ARGS")) {
    code = "USAGE";
  }
  return `error: ${code}: ${message.replace(/\s*[\r\n]+\s*/g, " ")}`;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  const [name, ...rest] = positionals;
  if (values.help || name === "help") {
    process.stdout.write(USAGE);
    return;
  }
  if (!name) throw usage("no command given");
  const command = COMMANDS[name];
  if (!command) throw usage(`unknown command "${name}"`);
  for (const option of Object.keys(values) as (keyof Values)[]) {
    if (option !== "api" && option !== "state" && !command.options.includes(option)) throw usage(`${name} does not take --${option}`);
  }
  if (rest.length > 0) throw usage(`${name} takes no arguments`);
  await command.run(values);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${errorLine(error)}\n`);
  process.exitCode = 1;
}

/** `--api` may name the API's origin (`http://host:4000`) or its GraphQL endpoint; both mean the endpoint. */
export function graphqlEndpoint(api: string): string {
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    return api;
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/graphql";
  return url.toString();
}
