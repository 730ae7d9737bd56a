// Lists what an operator must act on after the move to OPAQUE passwords:
//
//   DATABASE_URL=... npm run doctor --workspace @latchkey/api
//
// Users who had a password but have no OPAQUE registration record cannot sign
// in with a password (the server never kept one it could register for them):
// an admin sets a new password for each in the portal. Passwordless users (who
// never had a password) are not listed. With the embedded database, stop the
// API first: only one process may open it.
import { openDatabase } from "@latchkey/db";
import { loadConfig } from "../config.ts";

async function main() {
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir, poolSize: 2 });
  try {
    const users = await db.prisma.user.findMany({
      where: { opaqueRecord: null, passwordChangedAt: { not: null } },
      select: { id: true, username: true, email: true, status: true, tenant: { select: { slug: true } } },
      orderBy: [{ tenant: { slug: "asc" } }, { username: "asc" }],
    });
    if (users.length === 0) {
      console.log("every user with a password has an OPAQUE registration record");
      return 0;
    }
    console.log(`${users.length} user(s) without an OPAQUE registration record: an admin must set a new password for each`);
    console.log(["tenant", "username", "email", "status", "user id"].join("\t"));
    for (const user of users) console.log([user.tenant.slug, user.username, user.email, user.status, user.id].join("\t"));
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
