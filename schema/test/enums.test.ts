// The enums built from a record in code: each lists exactly the record's keys,
// and every value tells an integrator what it means.
import type { GraphQLEnumType, GraphQLEnumValue } from "graphql";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, schema } from "../src/index.ts";
import { AUDIT_ACTIONS, auditEventKindName } from "../src/modules/audit/audit-actions.ts";
import { LOGIN_FAILURE_REASONS } from "../src/modules/login-event/login-failure-reasons.ts";

function enumValues(name: string): readonly GraphQLEnumValue[] {
  // By shape: the schema may be built with another copy of graphql (ESM or CommonJS) than this file imports.
  const type = schema.getType(name);
  if (!type || !("getValues" in type)) throw new Error(`${name} is not an enum`);
  return (type as GraphQLEnumType).getValues();
}

const described = (values: readonly GraphQLEnumValue[]) => values.filter((value) => !value.description?.trim()).map((value) => value.name);

describe("ErrorCode", () => {
  const values = enumValues("ErrorCode");

  it("lists exactly the codes of ERROR_CODES", () => {
    expect(values.map((value) => value.name).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("describes every value", () => {
    expect(described(values)).toEqual([]);
  });

  it("is the type of every error's code", () => {
    const error = schema.getType("Error");
    expect(error && "getFields" in error ? String(error.getFields().code!.type) : null).toBe("ErrorCode!");
  });
});

describe("AuditEventKind", () => {
  const values = enumValues("AuditEventKind");

  it("has one value per action, named for it, standing for the dotted action", () => {
    expect(values.map((value) => [value.name, value.value]).sort()).toEqual(Object.keys(AUDIT_ACTIONS).map((action) => [auditEventKindName(action), action]).sort());
    expect(auditEventKindName("user.passwordChangeFailed")).toBe("USER_PASSWORD_CHANGE_FAILED");
    expect(auditEventKindName("apiKey.created")).toBe("API_KEY_CREATED");
  });

  it("describes every value", () => {
    expect(described(values)).toEqual([]);
  });
});

describe("LoginFailureReason", () => {
  const values = enumValues("LoginFailureReason");

  it("lists exactly the reasons of LOGIN_FAILURE_REASONS, and describes each", () => {
    expect(values.map((value) => value.name).sort()).toEqual(Object.keys(LOGIN_FAILURE_REASONS).sort());
    expect(described(values)).toEqual([]);
  });
});
