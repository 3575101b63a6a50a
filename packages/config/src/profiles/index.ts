export * from "./catalog.ts";
export * from "./model.ts";
export * from "./overrides.ts";
export * from "./size.ts";
