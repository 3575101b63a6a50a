export { DEFAULT_TENANT, MIN_KEY_LENGTH, parseApiKeyEntry, TENANT_NAME } from "./api-keys.ts";
export { APP_SECTIONS, type AppName } from "./apps.ts";
export * from "./auto-record.ts";
export {
  allSections,
  ConfigError,
  type ConfigProblem,
  type Environment,
  EXIT_CONFIG,
  exitOnConfigError,
  formatProblem,
  loadConfig,
  loadConfigOrExit,
  settingsHelp,
  settingsOf,
} from "./load.ts";
export * from "./profiles/index.ts";
export * from "./schema.ts";
export * from "./storage-keys.ts";
export * from "./tenants.ts";
