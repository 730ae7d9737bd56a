// DATA_DIR holds the embedded database, generated keys and the mail outbox:
// everything in it is owner-only, PGlite's own files (0666 as it makes them)
// included, and the API will not start on a directory others can write to.
import { chmod, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Authenticator } from "@latchkey/mobile";
import { describe, expect, it } from "vitest";
import { filesOpenToOthers } from "../src/data-dir.ts";
import { Api } from "./harness.ts";
import { seed } from "./seed.ts";

/** The embedded default, whatever the environment says: the database lives in DATA_DIR. */
const embedded = (dataDir: string) => ({ DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", KEY_ENCRYPTION_KEY: "", KEY_ENCRYPTION_KEY_ID: "", EMAIL_CODE_KEY: "" });

describe("DATA_DIR", () => {
  it("keeps everything in it owner-only, after start and after a run, in a directory an operator made readable", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-data-"));
    await chmod(dataDir, 0o755);
    try {
      let api = await Api.start(embedded(dataDir));
      expect(await readdir(join(dataDir, "pglite"))).not.toHaveLength(0);
      expect(await filesOpenToOthers(dataDir)).toEqual([]);

      // Writes of every kind: rows, a new job table's rows, generated keys, mail in the outbox.
      const msp = await seed(api).msp();
      const technician = await msp.technician();
      const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
      await phone.requestEmailVerification(technician.email);
      const code = await api.emailedCode(technician.email);
      await api.stop();
      expect(await filesOpenToOthers(dataDir)).toEqual([]);
      for (const dir of ["pglite", "secrets", "outbox"]) expect((await stat(join(dataDir, dir))).mode & 0o777).toBe(0o700);
      const keyFile = join(dataDir, "secrets", "email-code.key");
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      expect(Buffer.from(await readFile(keyFile, "utf8"), "base64")).toHaveLength(32);

      // The generated email-code key is kept: a code sent before a restart still works after it.
      api = await Api.start(embedded(dataDir));
      try {
        const sameUser = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
        await sameUser.verifyEmail(technician.email, code, "Phone");
        expect(sameUser.deviceToken).toBeTruthy();
      } finally {
        await api.stop();
      }
      expect(await filesOpenToOthers(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it("refuses a directory its group or others may write to, before writing anything", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-data-"));
    try {
      for (const mode of [0o777, 0o770, 0o757]) {
        await chmod(dataDir, mode);
        await expect(Api.start(embedded(dataDir))).rejects.toThrow(new RegExp(`DATA_DIR ${dataDir} is writable by .*chmod 700`));
        expect(await readdir(dataDir)).toEqual([]);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
