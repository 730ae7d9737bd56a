-- Every password is an OPAQUE registration record now: no operation takes a password in clear,
-- so the Argon2id hashes and the AES-GCM password ciphertexts go. Their users need a new password
-- set by an admin (`npm run doctor --workspace @latchkey/api` lists them).
-- AlterTable
ALTER TABLE "User" DROP COLUMN "passwordCiphertext",
DROP COLUMN "passwordHash";
