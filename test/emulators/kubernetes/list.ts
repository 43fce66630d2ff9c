/** LIST: consistent RV, paging with limit/continue, too-large RV (504) and Exact reads (spec §1.2, §1.4). */
import { asListItem } from "./object-meta.ts";
import { parseRv, readListOptions } from "./list-options.ts";
import type { ApiRequest, ApiResponse } from "./request.ts";
import { apiVersionOf } from "./resources.ts";
import { ApiError, badRequest, expired } from "./status.ts";
import { metadataList, metadataTarget } from "./partial-metadata.ts";
import { toTable, wantsTable } from "./table.ts";
import type { Json } from "./types.ts";

interface ContinueToken {
  rv: number;
  start: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ContinueToken;
    if (typeof parsed.rv !== "number" || typeof parsed.start !== "string") throw new Error("shape");
    return parsed;
  } catch {
    throw badRequest("continue key is not valid: illegal base64 data at input byte 0");
  }
}

async function waitForRv(req: ApiRequest, rv: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (req.state.store.currentRv() < rv) {
    if (Date.now() >= deadline) {
      throw new ApiError(504, "Timeout", `Too large resource version: ${rv}, current: ${req.state.store.currentRv()}`, {
        causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
        retryAfterSeconds: 1,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function listObjects(req: ApiRequest): Promise<ApiResponse> {
  const r = req.route.resource;
  const target = metadataTarget(req.accept);
  const opts = readListOptions(req, false);
  const store = req.state.store;
  let listRv = store.currentRv();
  let start = "";
  if (opts.continueToken !== "") {
    const token = decodeContinue(opts.continueToken);
    if (token.rv < store.oldestWatchableRv()) {
      throw expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
    listRv = token.rv;
    start = token.start;
  } else if (opts.resourceVersion !== "" && opts.resourceVersion !== "0") {
    const rv = parseRv(opts.resourceVersion);
    await waitForRv(req, rv);
    if (opts.resourceVersionMatch === "Exact" && rv !== store.currentRv()) {
      throw expired("The resourceVersion for the provided list is too old.");
    }
    listRv = store.currentRv();
  }
  const all = store.list(r.key).filter(opts.match);
  const keyOf = (o: Json): string => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
  let items = start === "" ? all : all.filter((o) => keyOf(o) > start);
  const metadata: Json = { resourceVersion: String(listRv) };
  if (opts.limit > 0 && items.length > opts.limit) {
    const remaining = items.length - opts.limit;
    items = items.slice(0, opts.limit);
    const last = items[items.length - 1];
    metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, start: keyOf(last) })).toString("base64url");
    metadata.remainingItemCount = remaining;
  }
  if (wantsTable(req.accept)) return { code: 200, body: toTable(r, items, metadata, req.query.get("includeObject")) };
  if (target !== undefined) return { code: 200, body: metadataList(target, metadata, items, `core.${r.kind}List`) };
  return {
    code: 200,
    body: { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata, items: items.map(asListItem) },
  };
}
