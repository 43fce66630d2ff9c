/**
 * One entry point for "what does this pod ask for": leasekeeper's own `leasekeeper.io/*`
 * annotations first, then (when enabled) the Vault Agent Injector's `vault.hashicorp.com/*`.
 */
import { parseInjectorAnnotations, wantsInjection, type InjectorSettings } from "./injector-annotations.ts";
import { isOptedIn, parsePodContract, type PodContract, type PodLike } from "./pod-contract.ts";

export type ContractSettings = InjectorSettings;

export function readPodContract(pod: PodLike, settings: ContractSettings): PodContract {
  const own = parsePodContract(pod, settings.defaultAuthPath);
  if (own.kind !== "not-opted-in") return own;
  const injector = parseInjectorAnnotations(pod, settings);
  return injector.kind === "request" ? { kind: "request", request: injector.request } : injector;
}

/** Opted in by either annotation family (the second only when LEASEKEEPER_VAULT_ANNOTATIONS is on). */
export function wantsCredentials(pod: PodLike, settings: Pick<ContractSettings, "vaultAnnotations">): boolean {
  return isOptedIn(pod) || (settings.vaultAnnotations && wantsInjection(pod.metadata?.annotations ?? undefined));
}
