// Periodic work, offered by every instance on its own timer and run by one:
// each offer is a job enqueued at most once per round across the deployment
// (the queue drops the rest), so nothing runs twice and nothing stops when an
// instance does.
import type { JobName, Services } from "@latchkey/schema";

const ROUNDS: { name: JobName; everySeconds: number }[] = [
  { name: "housekeeping.sweep", everySeconds: 60 },
  { name: "audit.retention", everySeconds: 3600 },
  { name: "audit.chain", everySeconds: 60 },
];

export function startHousekeeping(services: Pick<Services, "jobs" | "log">) {
  const offer = async () => {
    for (const { name, everySeconds } of ROUNDS) {
      await services.jobs
        .enqueue(name, {}, { once: { key: name, perSeconds: everySeconds } })
        .catch((error: unknown) => services.log.warn("housekeeping could not be offered", { job: name, error: String(error) }));
    }
  };
  void offer();
  const timer = setInterval(() => void offer(), 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
