-- Usernames are now compared as Windows compares account names (each code point
-- upper-cased on its own) and refused when they look like another of the tenant
-- (UTS #39 skeletons, one row each). Neither Windows' case table nor Unicode's
-- confusables exist in SQL: for users made before this, the API writes their
-- rows, and the key of any name beyond ASCII, when it starts (refreshUsernameKeys).

-- An ASCII name's key is its letters upper-cased: translate(), unlike upper(),
-- does not depend on the database's locale (Turkish would give İ).
UPDATE "User"
SET "usernameKey" = translate("username", 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
WHERE "username" ~ '^[ -~]*$';

-- CreateTable
CREATE TABLE "UsernameSkeleton" (
    "tenantId" UUID NOT NULL,
    "skeleton" TEXT NOT NULL,
    "userId" UUID NOT NULL,

    CONSTRAINT "UsernameSkeleton_pkey" PRIMARY KEY ("tenantId","skeleton")
);

-- CreateIndex
CREATE INDEX "UsernameSkeleton_userId_idx" ON "UsernameSkeleton"("userId");

-- AddForeignKey
ALTER TABLE "UsernameSkeleton" ADD CONSTRAINT "UsernameSkeleton_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

