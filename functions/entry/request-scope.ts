import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Per-request instances behind long-lived references. On Cloudflare Workers an I/O object (a
 * Redis socket) must not outlive the request that made it, yet the app, its auth caches and its
 * rate limiter should live as long as the isolate. So the app is built once over forwarders, and
 * each request runs inside `run()` with its own instances.
 */
export class RequestScope<T extends object> {
  readonly #storage = new AsyncLocalStorage<T>();

  run<R>(instances: T, fn: () => R): R {
    return this.#storage.run(instances, fn);
  }

  /** An object that forwards every property to the current request's `pick(instances)`. */
  forwarder<K extends object>(pick: (instances: T) => K): K {
    const current = () => {
      const instances = this.#storage.getStore();
      if (!instances) throw new Error("used outside a request scope");
      return pick(instances);
    };
    return new Proxy({} as K, {
      get(_target, property) {
        const target = current();
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
