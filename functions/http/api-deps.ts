import type { Hono } from "hono";
import type { AuditLog } from "../../shared/audit/audit-log.ts";
import type { PodIndex } from "../../shared/index/pod-index.ts";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import type { AccessReviewer } from "../../shared/kube/access-review.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { KubePort } from "../../shared/ports/vault-kube.ts";
import type { RateCounter } from "../../shared/redis/rate-counter.ts";
import type { OwnerLookup } from "../../shared/scopes/resolve.ts";
import type { Authorizer } from "./auth/authorize.ts";
import type { ReplayGuard } from "./auth/replay-guard.ts";
import type { UnsealRouteDeps } from "./unseal-route.ts";

/** What the on-call / CI routes need; built per process on Node, per request on Workers. */
export interface ApiDeps {
  readonly reviewer?: AccessReviewer | undefined;
  /** sha256 hex digests of static API tokens. */
  readonly apiTokenHashes: readonly string[];
  /** Shared secrets for the CI hook's HMAC; empty disables the hook. */
  readonly ciSecrets: readonly string[];
  readonly index: PodIndex;
  readonly kube: KubePort;
  readonly owners: OwnerLookup;
  readonly producer: JobProducer;
  readonly audit: AuditLog;
  readonly replay: ReplayGuard;
  readonly unseal?: UnsealRouteDeps | undefined;
  /** Requests per minute per identity. */
  readonly rateLimitPerMinute: number;
  /** Where the per-identity limit counts (Redis: it holds across replicas and Worker isolates). */
  readonly rateCounter: RateCounter;
  /** The BullMQ dashboard (Node only: functions/http/admin-queues.ts), mounted at /admin/queues behind the same auth. */
  readonly adminQueues?: Hono | undefined;
  readonly log: Log;
}

/** The per-app pieces built from ApiDeps once. */
export interface ApiContext extends ApiDeps {
  readonly authorize: Authorizer;
}
