export * from "./catalog.ts";
export * from "./egress.ts";
export * from "./model.ts";
export * from "./size.ts";
