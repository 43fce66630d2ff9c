/** A small RBAC-like rules table for the authorizer hook (the admin token is always allowed). */
import type { Authorizer, AuthzAttributes } from "./types.ts";

export interface AccessRule {
  /** Usernames the rule applies to (e.g. system:serviceaccount:ns:sa); omitted = anyone. */
  users?: string[];
  /** Groups the rule applies to; omitted = anyone. */
  groups?: string[];
  verbs: string[];
  /** API groups ("" = core); omitted = any. */
  apiGroups?: string[];
  /** Plural resources, or "pods/status" style for subresources; "*" = any. */
  resources: string[];
  namespaces?: string[];
  resourceNames?: string[];
}

const has = (list: string[] | undefined, v: string | undefined): boolean =>
  list === undefined || list.includes("*") || (v !== undefined && list.includes(v));

function matches(rule: AccessRule, a: AuthzAttributes): boolean {
  const who =
    (rule.users === undefined && rule.groups === undefined) ||
    (rule.users?.includes(a.user.username) ?? false) ||
    (rule.groups?.some((g) => a.user.groups.includes(g)) ?? false);
  const resource = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
  return (
    who &&
    has(rule.verbs, a.verb) &&
    has(rule.apiGroups, a.apiGroup) &&
    has(rule.resources, resource) &&
    (rule.namespaces === undefined || has(rule.namespaces, a.namespace)) &&
    (rule.resourceNames === undefined || has(rule.resourceNames, a.name))
  );
}

export function rulesAuthorizer(rules: AccessRule[]): Authorizer {
  return (attrs) => {
    const rule = rules.find((r) => matches(r, attrs));
    return rule === undefined ? { allowed: false } : { allowed: true, reason: "allowed by emulator rules" };
  };
}
