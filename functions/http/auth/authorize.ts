import type { Context } from "hono";
import { ciScopeAllows, type CiVerb } from "../../../shared/config/ci-keys.ts";
import type { AccessReviewer } from "../../../shared/kube/access-review.ts";
import { messageOf } from "../../../shared/errors/errors.ts";
import { errorResponse } from "../errors.ts";
import type { ApiEnv, Identity } from "./identity.ts";
import { TtlCache } from "./ttl-cache.ts";

/** leasekeeper's RBAC API group: resources revocations, rotations, unseals, leases, jobs, auditrecords, queues. */
export const API_GROUP = "leasekeeper.io";

export type Decision = { allowed: true } | { allowed: false; status: 403 | 503; code: string; message: string };

/** What a CI key's verbs mean in RBAC terms: `create` on these resources. Nothing else is open to CI. */
const CI_VERB_OF: Readonly<Record<string, CiVerb>> = { revocations: "revoke", rotations: "rotate", unseals: "unseal" };

/**
 * SubjectAccessReview for Kubernetes users (verb on a leasekeeper.io resource, in a namespace
 * or cluster-wide). A verified CI delivery may do what its key's scope names (LEASEKEEPER_CI_HMAC_SECRETS);
 * static API tokens are trusted with every verb.
 */
export function createAuthorizer(reviewer: AccessReviewer | undefined, cacheMs = 10_000) {
  const cache = new TtlCache<boolean>(cacheMs, 10_000);
  return async function decide(
    identity: Identity,
    verb: string,
    resource: string,
    namespace?: string,
  ): Promise<Decision> {
    if (identity.kind === "api-token") return { allowed: true };
    const denied = refusal(verb, resource);
    if (identity.kind === "ci-hmac") {
      const ciVerb = CI_VERB_OF[resource];
      return verb === "create" && ciVerb !== undefined && ciScopeAllows(identity.scope, ciVerb, namespace)
        ? { allowed: true }
        : denied;
    }
    if (!reviewer) return denied;
    const key = JSON.stringify([identity.name, identity.user.groups, verb, resource, namespace ?? ""]);
    let allowed = cache.get(key);
    if (allowed === undefined) {
      try {
        allowed = await reviewer.authorize(identity.user, { verb, group: API_GROUP, resource, namespace });
      } catch (err) {
        return {
          allowed: false,
          status: 503,
          code: "unavailable",
          message: `cannot check access with Kubernetes: ${messageOf(err)}`,
        };
      }
      cache.set(key, allowed);
    }
    return allowed ? { allowed: true } : denied;
  };
}

export type Authorizer = ReturnType<typeof createAuthorizer>;

/**
 * The one refusal of a route: the same body whatever the request named, so a 403 never tells
 * whether a lease id, pod UID or job exists, nor in which namespace (docs/security.md).
 */
function refusal(verb: string, resource: string): Decision {
  return {
    allowed: false,
    status: 403,
    code: "forbidden",
    message: `not allowed: ${verb} ${resource}.${API_GROUP} is not granted for what this request reaches`,
  };
}

/** What a call needs: a verb on a leasekeeper.io resource, in each of these namespaces (none: cluster-wide). */
export interface Access {
  readonly verb: string;
  readonly resource: string;
  readonly namespaces?: ReadonlyArray<string | undefined>;
}

/** Checks every namespace (or cluster-wide when none); returns the refusal response, or undefined when allowed. */
export async function refuseUnless(
  c: Context<ApiEnv>,
  authorizer: Authorizer,
  access: Access,
): Promise<Response | undefined> {
  const { verb, resource, namespaces = [] } = access;
  const identity = c.get("identity");
  const decisions = await Promise.all(
    (namespaces.length > 0 ? [...new Set(namespaces)] : [undefined]).map((ns) =>
      authorizer(identity, verb, resource, ns),
    ),
  );
  const refused = decisions.find((d) => !d.allowed);
  if (refused && !refused.allowed) return errorResponse(c, refused.status, refused.code, refused.message);
  return undefined;
}
