/**
 * pods/log and pods/exec need a kubelet and a container runtime behind the API server; the
 * emulator has neither. A real kube-apiserver whose kubelet backend cannot serve the request answers
 * with an error Status (kubernetes pkg/registry/core/pod/rest/log.go, subresources.go proxy to the
 * kubelet); here that is 503 ServiceUnavailable with a message saying why, after the checks the
 * real handlers make first (pod exists: 404; named container exists: 400).
 */
import type { ApiRequest, ApiResponse } from "../request.ts";
import { ApiError, badRequest, notFound } from "../status.ts";
import type { Json } from "../types.ts";

export const NO_RUNTIME = "no container runtime in the sandbox";

export function podRuntimeRequest(req: ApiRequest): ApiResponse {
  const name = req.route.name ?? "";
  const pod = req.state.store.get("pods", req.route.namespace ?? "", name);
  if (pod === undefined) throw notFound("pods", name);
  const containers = ((pod.spec?.containers ?? []) as Json[]).map((c) => String(c.name));
  const container = req.query.get("container") ?? "";
  if (container !== "" && !containers.includes(container))
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  const action =
    req.route.subresource === "log" ? `cannot read logs of pod "${name}"` : `cannot run commands in pod "${name}"`;
  throw new ApiError(
    503,
    "ServiceUnavailable",
    `${NO_RUNTIME}: the Kubernetes emulator runs no containers, so it ${action}`,
  );
}
