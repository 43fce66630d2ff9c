/** In-process HashiCorp Vault emulator for tests. See README.md in this folder. */
export { startVaultEmulator, type VaultEmulator, type VaultEmulatorOptions } from "./emulator.ts";
export { startVaultCluster, type VaultClusterOptions } from "./cluster.ts";
export { startVaultActiveService, type VaultActiveService, type NoEndpointsMode } from "./active-service.ts";
export { createVaultTlsCa, type VaultTlsCa } from "./tls.ts";
export type { VaultControl, LeaseInfo, TokenInfo } from "./control.ts";
export type { RequestRecord } from "./server.ts";
export type { TokenReviewRecord } from "./k8s-state.ts";
export type { RaftJoinOptions } from "./raft-join.ts";
