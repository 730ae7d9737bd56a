// Each step the password worker runs, on the shared client library the CLIs use too.
import {
  answerLogin,
  browserKeyHash,
  finishRegistration,
  generateTenantKeyPair,
  openRevealInBrowser,
  INCORRECT_LOGIN,
  passwordProblem,
  sealForTenant,
  startLogin,
  startRegistration,
  TenantKeyRefused,
} from "@latchkey/passwords";
import type { PasswordAnswer, PasswordRequest } from "./password-protocol";

export async function runPasswordStep<R extends PasswordRequest>(request: R): Promise<PasswordAnswer[R["op"]]> {
  let answer: PasswordAnswer[PasswordRequest["op"]];
  switch (request.op) {
    case "checkNewPassword":
      answer = passwordProblem(request.password, request.context);
      break;
    case "startLogIn":
      answer = await startLogin(request.password);
      break;
    case "answerLogIn":
      try {
        const { finish } = await answerLogin(request.started, request.state, request.password);
        answer = { finish };
      } catch (error) {
        if (error !== INCORRECT_LOGIN) throw error;
        answer = null;
      }
      break;
    case "startRegistration":
      answer = await startRegistration(request.password);
      break;
    case "completeRegistration": {
      const { started } = request;
      const { record } = await finishRegistration({
        state: request.state,
        response: started.response,
        password: request.password,
        ksf: started.ksf,
        identities: { client: started.userId, server: started.serverIdentity },
      });
      try {
        // Sealed only to a key its statement signs, never to an epoch older than this browser saw.
        const sealed = await sealForTenant(started, record, request.password, request.pinned);
        answer = { record, sealedPassword: sealed?.sealedPassword ?? null, phoneCopies: sealed?.phoneCopies ?? [], pin: sealed?.pin ?? null };
      } catch (error) {
        if (!(error instanceof TenantKeyRefused)) throw error;
        answer = { refused: error.message };
      }
      break;
    }
    case "newBrowserKey": {
      const pair = await generateTenantKeyPair();
      answer = { ...pair, hash: await browserKeyHash(pair.publicKey) };
      break;
    }
    case "openReveal":
      answer = await openRevealInBrowser({ ...request.binding, browserPrivateKey: request.privateKey, sealed: request.sealed });
      break;
  }
  return answer as PasswordAnswer[R["op"]];
}
