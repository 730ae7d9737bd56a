export {
  MAX_ACCOUNT_NAME_LENGTH,
  RESERVED_ACCOUNT_NAMES,
  accountNameProblem,
  isDeviceName,
  quoteAccountName,
  reservedAccountName,
  windowsAccountNameProblem,
  type AccountNameProblem,
  type AccountNameRule,
} from "./account-names.ts";
export { accountNameSkeletons, lookalikeAccountNames, skeleton } from "./lookalikes.ts";
export { foldAccountName, sameAccountName, simpleLowerCase } from "./windows-case.ts";
