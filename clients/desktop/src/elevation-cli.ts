// The elevated-access commands of `desktop-agent`: elevate, service, and the
// simulated Windows session model (logon, run, sessions).
import { AgentError } from "./agent-error.ts";
import type { DesktopAgent } from "./desktop-agent.ts";
import { ElevationAgent } from "./elevation-agent.ts";
import { emptyElevationState, openLogonSession, startProcess } from "./elevation-state.ts";
import { findLocalAccount } from "./local-accounts.ts";
import { renderQrCode } from "./qr-code.ts";

export const ELEVATION_USAGE = `  elevate [--in-session] [--minutes N] [--detach] [--json]
                         elevated access for a technician: show a QR code, wait for a technician's
                         phone, then sign the local admin account in (at the login screen, or with
                         --in-session inside the signed-in user's session) and hold the session until
                         it expires or is ended (Ctrl-C ends it here); --detach leaves that to \`service\`
  service [--once] [--now ISO]
                         the agent's service: commands from the server (subscription, and asked for at
                         every connection and every minute), and expiry by this workstation's clock;
                         --once does one round (offline too) at --now and exits
  logon --user NAME [--remote]
                         (simulated) a local user signs in to Windows, at the console or remotely
  run --image NAME [--session ID]
                         (simulated) start a process in a technician session's logon session
  sessions [--json]      (simulated) logon sessions, their processes, and technician sessions
  --reveal-passwords-to FILE
                         tests only: append every password the agent generates to FILE
`;

export const ELEVATION_OPTIONS = {
  "in-session": { type: "boolean" },
  minutes: { type: "string" },
  detach: { type: "boolean" },
  once: { type: "boolean" },
  now: { type: "string" },
  user: { type: "string" },
  remote: { type: "boolean" },
  image: { type: "string" },
  session: { type: "string" },
  "reveal-passwords-to": { type: "string" },
} as const;

export type ElevationValues = {
  "in-session"?: boolean;
  minutes?: string;
  detach?: boolean;
  once?: boolean;
  now?: string;
  user?: string;
  remote?: boolean;
  image?: string;
  session?: string;
  "reveal-passwords-to"?: string;
  json?: boolean;
};

type Io<V> = {
  load(values: V): Promise<DesktopAgent>;
  print(...lines: string[]): void;
  printJson(value: unknown): void;
  printable(text: string): string;
  usage(message: string): AgentError;
};

function progress(line: string) {
  process.stderr.write(`${line}\n`);
}

/** Ctrl-C and a service stop end the wait (and, while holding, the session) cleanly. */
function interruption() {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  return controller.signal;
}

export function elevationCommands<V extends ElevationValues>(io: Io<V>) {
  const elevationAgent = async (values: V) =>
    new ElevationAgent(await io.load(values), { revealPasswordsTo: values["reveal-passwords-to"] ?? null, log: progress });
  return {
    elevate: {
      options: ["in-session", "minutes", "detach", "json", "reveal-passwords-to"] as (keyof V)[],
      async run(values: V) {
        const minutes = values.minutes === undefined ? null : Number(values.minutes);
        if (minutes !== null && (!Number.isInteger(minutes) || minutes < 1 || minutes > 480)) throw io.usage("--minutes must be a whole number from 1 to 480");
        const elevation = await elevationAgent(values);
        const signal = interruption();
        const session = await elevation.elevate(
          { mode: values["in-session"] ? "IN_SESSION" : "SIGN_IN", minutes },
          {
            signal,
            async onChallenge(challenge) {
              const code = await renderQrCode(challenge.qrPayload, { colour: Boolean(process.stderr.isTTY) });
              const account = challenge.account ?? `${challenge.accountPrefix}<n> (the approving technician's own)`;
              progress(
                `${code}\nElevated access: ${challenge.mode === "IN_SESSION" ? "in this session" : "sign-in"} as ${io.printable(account)} for ${challenge.minutes} minutes.\n` +
                  `A technician scans this code with the Latchkey authenticator (it expires at ${challenge.expiresAt}).\nCode: ${challenge.qrPayload}\nWaiting for approval...`,
              );
            },
            onStatus(status) {
              const lines: Record<string, string> = { SCANNED: "Scanned on a phone; waiting for the decision...", APPROVED: "Approved on the phone.", DENIED: "Denied on the phone.", EXPIRED: "The code expired." };
              if (lines[status]) progress(lines[status]!);
            },
          },
        );
        const summary = { sessionId: session.id, account: session.account, mode: session.mode, technician: session.technicianName, minutes: session.minutes, endsAt: session.endsAt, logonSession: session.logonSessionId };
        if (values.json) io.printJson(summary);
        else io.print(`session: ${session.id}`, `account: ${io.printable(session.account)}`, `technician: ${io.printable(session.technicianName)}`, `mode: ${session.mode}`, `ends: ${session.endsAt}`);
        if (values.detach || session.endedAt) return;
        progress(`Session ${session.id} started; Ctrl-C ends it.`);
        const ended = () => elevation.state.sessions.find((local) => local.id === session.id)?.endedAt != null;
        await elevation.serve({ signal, until: ended });
        if (!ended()) await elevation.endSession(session.id, "ENDED_ON_WORKSTATION", "ended at the workstation");
        const final = elevation.state.sessions.find((local) => local.id === session.id)!;
        progress(`Session ${session.id} ended (${final.endReason}); the password of ${final.account} was rotated.`);
      },
    },
    service: {
      options: ["once", "now", "reveal-passwords-to"] as (keyof V)[],
      async run(values: V) {
        const now = values.now === undefined ? null : new Date(values.now);
        if (now && Number.isNaN(now.getTime())) throw io.usage("--now must be a date and time, e.g. 2026-01-02T03:04:05Z");
        if (now && !values.once) throw io.usage("--now goes with --once");
        const agent = await io.load(values);
        const elevation = new ElevationAgent(agent, { revealPasswordsTo: values["reveal-passwords-to"] ?? null, log: progress, ...(now ? { now: () => now } : {}) });
        if (values.once) {
          const ended = await elevation.enforce(now ?? new Date());
          for (const session of ended) io.print(`ended ${session.id} (${session.endReason})`);
          try {
            const handled = await elevation.sync();
            io.print(`commands: ${handled}`);
          } catch (error) {
            // Offline: expiry was enforced all the same; reports wait in the state file.
            if (!(error instanceof AgentError) || error.code !== "NETWORK_ERROR") throw error;
            io.print(`offline: ${error.message}; ${elevation.state.pendingReports.length} report(s) kept for later`);
          }
          return;
        }
        progress("service running; Ctrl-C stops it.");
        await elevation.serve({ signal: interruption() });
      },
    },
    logon: {
      options: ["user", "remote"] as (keyof V)[],
      async run(values: V) {
        if (!values.user) throw io.usage("logon needs --user");
        const agent = await io.load(values);
        if (!findLocalAccount(agent.localAccounts, values.user)) throw new AgentError("NO_SUCH_ACCOUNT", `there is no local account "${values.user}" on this workstation`);
        let id = "";
        await agent.updateState((state) => {
          const opened = openLogonSession(state.elevation ?? emptyElevationState(), { user: values.user!, kind: values.remote ? "REMOTE" : "CONSOLE", parentId: null, technicianSessionId: null, images: ["userinit.exe", "explorer.exe"] }, new Date());
          id = opened.logonSession.id;
          return { ...state, elevation: opened.elevation };
        });
        io.print(`logon session: ${id}`);
      },
    },
    run: {
      options: ["image", "session"] as (keyof V)[],
      async run(values: V) {
        if (!values.image) throw io.usage("run needs --image");
        const agent = await io.load(values);
        const open = (agent.toState().elevation ?? emptyElevationState()).sessions.filter((session) => session.endedAt === null && (!values.session || session.id === values.session));
        if (open.length !== 1) throw new AgentError("NO_SUCH_SESSION", values.session ? `no open technician session ${values.session}` : "name the technician session with --session");
        await agent.updateState((state) => ({ ...state, elevation: startProcess(state.elevation ?? emptyElevationState(), open[0]!.logonSessionId, values.image!, new Date()) }));
        io.print(`started ${values.image} in ${open[0]!.logonSessionId}`);
      },
    },
    sessions: {
      options: ["json"] as (keyof V)[],
      async run(values: V) {
        const elevation = (await io.load(values)).toState().elevation ?? emptyElevationState();
        if (values.json) return io.printJson({ logonSessions: elevation.logonSessions, sessions: elevation.sessions, restarts: elevation.restarts, restartDueAt: elevation.restartDueAt, pendingReports: elevation.pendingReports.length });
        for (const logon of elevation.logonSessions) {
          io.print(`${logon.id}  ${io.printable(logon.user)}  ${logon.kind}${logon.parentId ? ` elevated in ${logon.parentId}` : ""}  processes: ${logon.processes.map((p) => `${p.image}(${p.pid})`).join(", ")}`);
        }
        for (const session of elevation.sessions) {
          io.print(`technician session ${session.id}  ${io.printable(session.account)}  ${session.mode}  ${session.endedAt ? `ended ${session.endedAt} (${session.endReason})` : `until ${session.endsAt}`}`);
        }
      },
    },
  };
}
