/** Leases (spec §8) and events.k8s.io Events: MicroTime fields parsed with exactly six fractional digits. */
import type { ApiRequest, ResourceHooks } from "../request.ts";
import { badRequest, required, type FieldError } from "../status.ts";
import { microTimeError } from "../validation.ts";

function checkMicroTimes(req: ApiRequest, fields: [string, unknown][]): void {
  const kind = req.route.resource.kind;
  for (const [, value] of fields) {
    const err = microTimeError(value);
    if (err !== null) throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${err}`);
  }
}

export const leaseHooks: ResourceHooks = {
  beforeCreate(req, obj) {
    checkMicroTimes(req, [
      ["spec.acquireTime", obj.spec?.acquireTime],
      ["spec.renewTime", obj.spec?.renewTime],
    ]);
  },
  prepareUpdate(req, obj) {
    checkMicroTimes(req, [
      ["spec.acquireTime", obj.spec?.acquireTime],
      ["spec.renewTime", obj.spec?.renewTime],
    ]);
  },
};

export const eventsV1Hooks: ResourceHooks = {
  beforeCreate(req, obj) {
    checkMicroTimes(req, [
      ["eventTime", obj.eventTime],
      ["series.lastObservedTime", obj.series?.lastObservedTime],
    ]);
  },
  prepareUpdate(req, obj) {
    checkMicroTimes(req, [["eventTime", obj.eventTime]]);
  },
  validate(_req, obj): FieldError[] {
    const errors: FieldError[] = [];
    if (obj.eventTime === undefined || obj.eventTime === null) errors.push(required("eventTime"));
    if (typeof obj.reportingController !== "string" || obj.reportingController === "")
      errors.push(required("reportingController"));
    if (typeof obj.reportingInstance !== "string" || obj.reportingInstance === "")
      errors.push(required("reportingInstance"));
    if (typeof obj.action !== "string" || obj.action === "") errors.push(required("action"));
    if (typeof obj.reason !== "string" || obj.reason === "") errors.push(required("reason"));
    if (obj.type !== "Normal" && obj.type !== "Warning")
      errors.push(required("type", "type should be Normal or Warning"));
    return errors;
  },
};

export const coreEventHooks: ResourceHooks = {
  validate(_req, obj): FieldError[] {
    const errors: FieldError[] = [];
    const io = obj.involvedObject;
    if (io === undefined || io === null) errors.push(required("involvedObject"));
    else if (io.namespace !== undefined && io.namespace !== "" && io.namespace !== obj.metadata.namespace) {
      errors.push({
        field: "involvedObject.namespace",
        type: "FieldValueInvalid",
        detail: `Invalid value: ${JSON.stringify(io.namespace)}: does not match event.namespace`,
      });
    }
    if (obj.eventTime !== undefined && obj.eventTime !== null && microTimeError(obj.eventTime) !== null) {
      errors.push({
        field: "eventTime",
        type: "FieldValueInvalid",
        detail: `Invalid value: ${JSON.stringify(obj.eventTime)}: ${microTimeError(obj.eventTime) ?? ""}`,
      });
    }
    return errors;
  },
};
