import type { CallbacksConfig, TenantRegistry } from "@recfleet/config";
import type { DeliveryLog } from "@recfleet/recordings";
import type { Resolver } from "./target.ts";

/** What the callback handler needs beyond the mailer's shared context. */
export interface CallbackContext {
  tenants: TenantRegistry;
  deliveries: DeliveryLog;
  config: CallbacksConfig;
  /** Name resolution for targets; the system's by default (tests point names at addresses). */
  resolve?: Resolver;
}
