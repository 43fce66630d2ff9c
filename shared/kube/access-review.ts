import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { classifyKubeError } from "../errors/kube-errors.ts";

export interface KubeUser {
  readonly username: string;
  readonly uid?: string | undefined;
  readonly groups: readonly string[];
  readonly extra?: Record<string, string[]> | undefined;
}

export interface AccessAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  /** Absent: cluster-wide (needs a ClusterRoleBinding). */
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
}

/** TokenReview + SubjectAccessReview: people's rights are plain Kubernetes RBAC. */
export interface AccessReviewer {
  /** The user behind a bearer token, or undefined when Kubernetes does not authenticate it. */
  authenticate(token: string): Promise<KubeUser | undefined>;
  authorize(user: KubeUser, attrs: AccessAttributes): Promise<boolean>;
}

/** The audience callers' tokens must carry unless LEASEKEEPER_TOKEN_REVIEW_AUDIENCES names others. */
export const DEFAULT_API_AUDIENCE = "leasekeeper";

/**
 * Over @kubernetes/client-node; needs `create` on tokenreviews and subjectaccessreviews (system:auth-delegator).
 * TokenReview always names audiences (an empty list means DEFAULT_API_AUDIENCE, never the API server's):
 * a kubeconfig or service-account token made for the API server, which can do everything its owner can,
 * is not accepted unless its audience is named explicitly.
 */
export function createAccessReviewer(
  kc: KubeConfig,
  wanted: readonly string[] = [DEFAULT_API_AUDIENCE],
): AccessReviewer {
  const audiences = wanted.length > 0 ? [...wanted] : [DEFAULT_API_AUDIENCE];
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async authenticate(token) {
      let review;
      try {
        review = await authn.createTokenReview({
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenReview",
            spec: { token, audiences: [...audiences] },
          },
        });
      } catch (err) {
        throw classifyKubeError(err, "token review");
      }
      const status = review.status;
      if (status?.authenticated !== true || !status.user?.username) return undefined;
      if (!(status.audiences ?? []).some((a) => audiences.includes(a))) return undefined;
      return {
        username: status.user.username,
        uid: status.user.uid,
        groups: status.user.groups ?? [],
        extra: status.user.extra,
      };
    },
    async authorize(user, attrs) {
      let review;
      try {
        review = await authz.createSubjectAccessReview({
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
              user: user.username,
              uid: user.uid,
              groups: [...user.groups],
              extra: user.extra,
              resourceAttributes: {
                verb: attrs.verb,
                group: attrs.group,
                resource: attrs.resource,
                namespace: attrs.namespace,
                name: attrs.name,
              },
            },
          },
        });
      } catch (err) {
        throw classifyKubeError(err, "subject access review");
      }
      return review.status?.allowed === true && review.status.denied !== true;
    },
  };
}
