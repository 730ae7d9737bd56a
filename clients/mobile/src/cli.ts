// `authenticator`: the reference mobile authenticator as a command line. Every
// command takes --api and --state; results go to stdout, prompts and errors to
// stderr; the exit code is 0 on success and 1 with one `error: CODE: message`
// line otherwise.
import { hostname } from "node:os";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Authenticator, DEFAULT_API_URL, type AuthenticatorRecord } from "./authenticator.ts";
import { AuthenticatorError } from "./authenticator-error.ts";
import { readStateFile } from "./authenticator-state.ts";
import type { DeviceKeyAlgorithm } from "./device-key.ts";
import { parseQrPayload } from "./qr-payload.ts";
import { describeScan, printable } from "./scan-description.ts";

const DEFAULT_STATE_FILE = "./authenticator.json";

const USAGE = `Usage: authenticator <command> [options]

Commands:
  enroll --email E [--code C] [--name N] [--algorithm p256|ed25519]
                         register this device's new key with a verified email; without --code,
                         asks the API to email a code, then reads it from standard input
  onboard <qrPayload>    join the user and tenant of a device-onboarding QR code
  redeem-invitation <code>
                         join the user whose invitation email (to the address this device
                         verified) carried this code
  scan <qrPayload>       show who is asking, without deciding
  approve <qrPayload>    show who is asking, then approve
  deny <qrPayload>       show who is asking, then deny
  enable-master-key <qrPayload> [--admit FINGERPRINT ...]
                         turn on a customer's master key from the portal's QR code: make the
                         new key here, re-seal every secret to it, wrap it to this phone and
                         to each phone admitted by the fingerprint it shows (see fingerprint)
  rotate-master-key <qrPayload> [--retire-recovery-kits] [--admit FINGERPRINT ...]
                         rotate a customer's key on this holder phone (after a holder was
                         removed, or to admit a new phone): the next epoch's key, every secret
                         re-sealed to it; with --retire-recovery-kits, no recovery kit holds it
  create-recovery-kit <qrPayload> [--admit FINGERPRINT ...]
                         admit a recovery kit for a customer's key on this holder phone and
                         print its code, once: write it down and keep it offline
  reveal-break-glass <qrPayload>
                         reveal a workstation's break-glass password, with the master key on,
                         to the browser that shows the QR code (sealed to its key)
  fingerprint            print this phone's fingerprint, for the holder who admits it
  recover <qrPayload> --code C
                         put a customer's key onto this phone with a recovery kit's code
  list                   list the authenticators of this device's user
  register-key           register this device's key-agreement key (done at enroll; for
                         devices enrolled before such keys)
  revoke <id>            revoke an authenticator

Options (every command):
  --api URL              GraphQL endpoint (default: the state file's, else ${DEFAULT_API_URL})
  --state FILE           state file with the device key and token (default: ${DEFAULT_STATE_FILE})
  -h, --help             show this help
`;

const OPTIONS = {
  api: { type: "string" },
  state: { type: "string" },
  help: { type: "boolean", short: "h" },
  email: { type: "string" },
  code: { type: "string" },
  name: { type: "string" },
  algorithm: { type: "string" },
  "retire-recovery-kits": { type: "boolean" },
  admit: { type: "string", multiple: true },
} as const;

type Values = {
  api?: string;
  state?: string;
  help?: boolean;
  email?: string;
  code?: string;
  name?: string;
  algorithm?: string;
  "retire-recovery-kits"?: boolean;
  admit?: string[];
};

interface Command {
  /** Options beyond --api/--state/--help. */
  options: (keyof Values)[];
  /** Name of the one positional argument, if any. */
  argument?: string;
  run(values: Values, argument: string | undefined): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  enroll: { options: ["email", "code", "name", "algorithm"], run: (values) => enroll(values) },
  onboard: {
    options: [],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const { scan, authenticator } = await (await load(values)).onboard(qrPayload!);
      print(...describeScan(scan));
      print(linkedLine("Onboarded", authenticator, scan.tenant));
    },
  },
  "redeem-invitation": {
    options: [],
    argument: "code",
    async run(values, code) {
      const { authenticator, tenant } = await (await load(values)).redeemInvitation(code!);
      print(linkedLine("Linked", authenticator, tenant));
    },
  },
  scan: {
    options: [],
    argument: "qrPayload",
    async run(values, qrPayload) {
      print(...describeScan(await (await load(values)).scan(qrPayload!)));
    },
  },
  approve: {
    options: [],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const { scan, challenge } = await (await load(values)).approve(qrPayload!);
      print(...describeScan(scan), `Approved: challenge ${challenge.id} is now ${challenge.status}.`);
    },
  },
  deny: {
    options: [],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const { scan, challenge } = await (await load(values)).deny(qrPayload!);
      print(...describeScan(scan), `Denied: challenge ${challenge.id} is now ${challenge.status}.`);
    },
  },
  "enable-master-key": {
    options: ["admit"],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const done = await (await load(values)).enableMasterKey(qrPayload!, { admit: values.admit ?? [] });
      print(...describeScan(done.scan), `Master key on for ${done.scan.tenant.displayName}: epoch ${done.tenantKey.epoch}, ${done.tenantKey.holders?.length ?? 0} holder(s).`, ...describeHolders(done));
    },
  },
  "rotate-master-key": {
    options: ["retire-recovery-kits", "admit"],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const done = await (await load(values)).rotateTenantKey(qrPayload!, { retireRecoveryKits: values["retire-recovery-kits"] ?? false, admit: values.admit ?? [] });
      if (done.rotated.length === 1 && done.rotated[0]!.tenantId === done.scan.tenant.id) {
        print(...describeScan(done.scan), `Key of ${done.scan.tenant.displayName} rotated: epoch ${done.tenantKey.epoch}, ${done.tenantKey.holders?.length ?? 0} holder(s).`, ...describeHolders(done));
        return;
      }
      // An MSP's code: every customer where a rotation was due and this phone held the key.
      print(...describeScan(done.scan), `Rotated the key of ${done.rotated.length} customer(s) with this one approval:`);
      for (const tenant of done.rotated) print(`  ${printable(tenant.displayName)}: epoch ${tenant.epoch}`);
    },
  },
  "create-recovery-kit": {
    options: ["admit"],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const { scan, tenantKey, recoveryCode, awaiting, phoneCopies } = await (await load(values)).createRecoveryKit(qrPayload!, { admit: values.admit ?? [] });
      print(
        ...describeScan(scan),
        `Recovery kit created for ${scan.tenant.displayName} (epoch ${tenantKey.epoch}). Its code, shown this once:`,
        "",
        `    ${recoveryCode}`,
        "",
        "Write it down and keep it offline: with it, a new phone of an admin recovers the key when every phone that held it is lost.",
        ...describeHolders({ tenantKey, awaiting, phoneCopies }),
      );
    },
  },
  recover: {
    options: ["code"],
    argument: "qrPayload",
    async run(values, qrPayload) {
      if (!values.code) throw usage("recover needs --code: the recovery kit's code");
      const { scan, tenantKey } = await (await load(values)).recoverTenantKey(qrPayload!, values.code);
      print(...describeScan(scan), `Key of ${scan.tenant.displayName} recovered onto this phone: epoch ${tenantKey.epoch}, ${tenantKey.holders?.length ?? 0} holder(s).`);
    },
  },
  "reveal-break-glass": {
    options: [],
    argument: "qrPayload",
    async run(values, qrPayload) {
      const { scan, account } = await (await load(values)).revealBreakGlassPassword(qrPayload!);
      print(...describeScan(scan), `Revealed the password of ${printable(account)} to the browser that asked; only that browser can read it. The workstation will rotate it.`);
    },
  },
  fingerprint: {
    options: [],
    async run(values) {
      print(`This phone's fingerprint: ${await (await load(values)).fingerprint()}`, "Read it to the admin whose phone admits this one as a holder of a customer's key.");
    },
  },
  "register-key": {
    options: [],
    async run(values) {
      const record = await (await load(values)).registerKeyAgreementKey();
      print(`Registered key-agreement key ${record.keyAgreementKey?.publicKey ?? "?"} for authenticator ${record.id}.`);
    },
  },
  list: {
    options: [],
    async run(values) {
      const authenticator = await load(values);
      const records = await authenticator.list();
      if (records.length === 0) print("No authenticators.");
      for (const record of records) print(describeRecord(record, authenticator.deviceId));
    },
  },
  revoke: {
    options: [],
    argument: "id",
    async run(values, id) {
      const authenticator = await load(values);
      const revoked = await authenticator.revoke(id!);
      print(
        revoked === id && !authenticator.isEnrolled
          ? `Revoked authenticator ${revoked}, which was this device: its token is forgotten; enroll again to use it.`
          : `Revoked authenticator ${revoked}.`,
      );
    },
  },
};

async function enroll(values: Values): Promise<void> {
  if (!values.email) throw usage("enroll needs --email");
  const statePath = statePathOf(values);
  const existing = await readStateFile(statePath).catch((error: unknown) => {
    if (error instanceof AuthenticatorError && error.code === "NO_STATE") return null;
    throw error;
  });
  // Enrolling over an enrolled state file would throw away a working device
  // token and leave an orphaned authenticator at the API.
  if (existing?.deviceToken) {
    throw new AuthenticatorError("ALREADY_ENROLLED", `${statePath} is already enrolled as ${existing.deviceId}; use another --state file, or revoke this device first`);
  }
  const authenticator = await Authenticator.create({ apiUrl: values.api ?? DEFAULT_API_URL, algorithm: algorithmOf(values.algorithm), statePath });
  let code = values.code;
  if (code === undefined) {
    const sent = await authenticator.requestEmailVerification(values.email);
    process.stderr.write(`A verification code was sent to ${values.email}; it expires at ${sent.expiresAt}.\n`);
    code = await readLine("Verification code: ");
  }
  const record = await authenticator.verifyEmail(values.email, code, values.name ?? `${hostname()} (Latchkey CLI)`);
  print(`Enrolled: this device is authenticator ${record.id} "${record.name}" (${record.algorithm}); state saved to ${statePath}.`);
  if (!record.user) {
    print("Next: enter the code from your invitation email with `authenticator redeem-invitation <code>`,");
    print("or scan a device-onboarding QR code with `authenticator onboard <qrPayload>`.");
  }
}

function algorithmOf(value: string | undefined): DeviceKeyAlgorithm {
  switch (value?.toLowerCase()) {
    case undefined:
    case "p256":
    case "p-256":
      return "P256";
    case "ed25519":
      return "ED25519";
    default:
      throw usage(`--algorithm must be p256 or ed25519, not "${value}"`);
  }
}

/** One line of standard input: typed at a prompt on a terminal, or the first line of a pipe. */
async function readLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line.trim();
  } finally {
    lines.close();
    // Let the process end even if whoever feeds stdin keeps it open.
    process.stdin.pause();
    process.stdin.unref?.();
  }
  throw new AuthenticatorError("NO_CODE", "standard input ended before a verification code was entered");
}

function statePathOf(values: Values): string {
  return resolve(values.state ?? DEFAULT_STATE_FILE);
}

function load(values: Values): Promise<Authenticator> {
  return Authenticator.load(statePathOf(values), values.api === undefined ? {} : { apiUrl: values.api });
}

/** Every holder the new key was wrapped to, so the person holding the phone sees a holder they do not know. */
/** The holders the new epoch names, and the phones left waiting for a holder to admit them. */
function describeHolders(done: {
  tenantKey: { holders?: { kind: string; id: string }[] };
  awaiting: { holderId: string; name: string; userLabel: string }[];
  phoneCopies: number;
}): string[] {
  return [
    ...(done.phoneCopies ? [`  sealed ${done.phoneCopies} password copy(ies) to users' phones linked after their passwords were set`] : []),
    ...(done.tenantKey.holders ?? []).map((holder) => `  holder: ${holder.kind === "PHONE" ? "phone" : "recovery kit"} ${holder.id}`),
    ...done.awaiting.map(
      (phone) => `  waiting: phone ${phone.holderId} ${printable(phone.name)} (${printable(phone.userLabel)}): admit it with --admit and the fingerprint it shows`,
    ),
  ];
}

/** What a new link means: the device approves sign-ins now, or once it is approved itself. */
function linkedLine(what: string, authenticator: AuthenticatorRecord, tenant: { displayName: string; slug: string }): string {
  const user = authenticator.user ? ` for ${printable(authenticator.user.email)}` : "";
  const where = `in ${printable(tenant.displayName)} (${printable(tenant.slug)})`;
  if (authenticator.status === "PENDING_APPROVAL") {
    return (
      `${what}: this device is linked${user} ${where}, and waits for approval before it approves any sign-in: ` +
      "ask your admin, or sign in to the portal with your other phone and approve it under Your account."
    );
  }
  return `${what}: this device now approves sign-ins${user} ${where}.`;
}

function describeRecord(record: AuthenticatorRecord, thisDevice: string | null): string {
  const parts = [
    record.id,
    `"${printable(record.name)}"`,
    record.algorithm,
    record.user ? record.user.email : "not onboarded",
    record.status === "PENDING_APPROVAL" ? "waiting for approval" : null,
    record.keyAgreementKey ? null : "no key-agreement key",
    `created ${record.createdAt}`,
    `last used ${record.lastUsedAt ?? "never"}`,
    record.id === thisDevice ? "(this device)" : null,
  ];
  return parts.filter((part) => part !== null).join("  ");
}

function print(...lines: string[]): void {
  for (const line of lines) process.stdout.write(`${line}\n`);
}

function usage(message: string): AuthenticatorError {
  return new AuthenticatorError("USAGE", `${message} (see authenticator --help)`);
}

/** The one stderr line for a failure: `error: CODE: message`, with a ValidationError's fields and a rate limit's wait. */
function errorLine(error: unknown): string {
  let code = "INTERNAL";
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof AuthenticatorError) {
    code = error.code;
    // A one-field ValidationError's message is that field's message: name the field instead of repeating it.
    if (error.fields?.length) message += ` (${error.fields.map((field) => (field.message === error.message ? field.path : `${field.path}: ${field.message}`)).join("; ")})`;
    if (error.retryAfterSeconds !== undefined) message += ` (retry in ${error.retryAfterSeconds} s)`;
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
  const expected = command.argument ? 1 : 0;
  if (rest.length !== expected) throw usage(command.argument ? `${name} takes exactly one <${command.argument}>` : `${name} takes no arguments`);
  // An unreadable QR code is the user's first problem to hear about, before any missing state file.
  if (command.argument === "qrPayload") parseQrPayload(rest[0]!);
  await command.run(values, rest[0]);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${errorLine(error)}\n`);
  process.exitCode = 1;
}
