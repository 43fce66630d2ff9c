/** MutatingWebhookConfiguration validation (admissionregistration.k8s.io/v1). */
import type { ResourceHooks } from "../request.ts";
import { invalidValue, notSupported, required, type FieldError } from "../status.ts";
import type { Json } from "../types.ts";

export const webhookConfigHooks: ResourceHooks = {
  beforeCreate(_req, obj) {
    for (const w of (obj.webhooks ?? []) as Json[]) {
      w.failurePolicy ??= "Fail";
      w.timeoutSeconds ??= 10;
      w.matchPolicy ??= "Equivalent";
      w.reinvocationPolicy ??= "Never";
      w.namespaceSelector ??= {};
      w.objectSelector ??= {};
    }
  },
  validate(_req, obj): FieldError[] {
    const errors: FieldError[] = [];
    const hooks: Json[] = Array.isArray(obj.webhooks) ? obj.webhooks : [];
    hooks.forEach((w, i) => {
      const f = `webhooks[${i}]`;
      if (typeof w.name !== "string" || !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(w.name))
        errors.push(
          invalidValue(`${f}.name`, w.name ?? "", "should be a domain with at least three segments separated by dots"),
        );
      if (!["None", "NoneOnDryRun"].includes(w.sideEffects))
        errors.push(
          w.sideEffects === undefined
            ? required(`${f}.sideEffects`)
            : notSupported(`${f}.sideEffects`, w.sideEffects, ["None", "NoneOnDryRun"]),
        );
      if (!Array.isArray(w.admissionReviewVersions) || w.admissionReviewVersions.length === 0)
        errors.push(required(`${f}.admissionReviewVersions`));
      const cc = w.clientConfig ?? {};
      if (cc.url === undefined && cc.service === undefined)
        errors.push(required(`${f}.clientConfig`, "exactly one of url or service is required"));
      if (!["Fail", "Ignore"].includes(w.failurePolicy))
        errors.push(notSupported(`${f}.failurePolicy`, w.failurePolicy, ["Fail", "Ignore"]));
      if (typeof w.timeoutSeconds !== "number" || w.timeoutSeconds < 1 || w.timeoutSeconds > 30)
        errors.push(
          invalidValue(`${f}.timeoutSeconds`, w.timeoutSeconds, "the timeout value must be between 1 and 30 seconds"),
        );
    });
    return errors;
  },
};
