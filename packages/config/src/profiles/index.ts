export * from "./catalog.ts";
export * from "./model.ts";
export * from "./size.ts";
