/** The parsed form of one API request handed to resource handlers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResourceRoute } from "./router.ts";
import type { EmulatorState } from "./state.ts";
import type { Json, KubeObject, UserInfo } from "./types.ts";
import type { FieldError } from "./status.ts";

export interface ApiRequest {
  state: EmulatorState;
  method: string;
  route: ResourceRoute;
  query: URLSearchParams;
  user: UserInfo;
  contentType: string;
  accept: string;
  body: Buffer;
  req: IncomingMessage;
  res: ServerResponse;
}

export interface ApiResponse {
  code: number;
  body: Json;
}

/** Per-resource behaviour plugged into the generic create/update/delete flow. */
export interface ResourceHooks {
  /** Defaults and admission on create, before name generation and validation. */
  beforeCreate?(req: ApiRequest, obj: KubeObject): Promise<void> | void;
  /** Field errors for a candidate object (old is set on updates). */
  validate?(req: ApiRequest, obj: KubeObject, old: KubeObject | undefined): FieldError[];
  /** Adjusts a candidate update (e.g. keep status on the main resource). */
  prepareUpdate?(req: ApiRequest, obj: KubeObject, old: KubeObject): void;
  /** Runs after a stored create. */
  afterCreate?(req: ApiRequest, obj: KubeObject): void;
  /** Replaces the generic delete. */
  delete?(req: ApiRequest, existing: KubeObject, grace: number | undefined): Promise<ApiResponse> | ApiResponse;
  /** Create for virtual resources (reviews) and subresource POSTs (serviceaccounts/token). */
  virtualCreate?(req: ApiRequest, body: Json): Promise<ApiResponse> | ApiResponse;
}
