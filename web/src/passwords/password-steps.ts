// Each step the password worker runs, on the shared client library the CLIs use too.
import {
  answerLogin,
  finishRegistration,
  INCORRECT_LOGIN,
  passwordProblem,
  sealToTenant,
  startLogin,
  startRegistration,
  verifyTenantKey,
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
      if (!started.tenantKey || !started.tenantId) {
        answer = { record, sealedPassword: null, pin: null };
        break;
      }
      // Sealed only to a key its statement signs, never to an epoch older than this browser saw.
      const { statement, pin } = await verifyTenantKey(started.tenantKey, { tenantId: started.tenantId, pinned: request.pinned });
      const sealedPassword = await sealToTenant({
        tenantPublicKey: statement.publicKey,
        tenantId: started.tenantId,
        userId: started.userId,
        passwordVersion: started.passwordVersion,
        record,
        password: request.password,
      });
      answer = { record, sealedPassword, pin };
      break;
    }
  }
  return answer as PasswordAnswer[R["op"]];
}
