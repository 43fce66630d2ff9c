import type { CiScope } from "../../../shared/config/ci-keys.ts";
import type { KubeUser } from "../../../shared/kube/access-review.ts";

/** Who made a request: a Kubernetes user (TokenReview), a static API token, or a signed CI delivery (with its key's scope). */
export type Identity =
  | { readonly kind: "kubernetes"; readonly name: string; readonly user: KubeUser }
  | { readonly kind: "api-token"; readonly name: string }
  | { readonly kind: "ci-hmac"; readonly name: string; readonly scope: CiScope };

/** Hono context variables of the API. */
export interface ApiEnv {
  Variables: { identity: Identity; requestId: string };
}
