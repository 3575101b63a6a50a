export const DEFAULT_TENANT = "default";
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const MIN_KEY_LENGTH = 16;

/** An API_KEYS entry: `name=key`, or a bare key of tenant `default` (one holding `=` is written `default=<key>`). */
export function parseApiKeyEntry(entry: string): { tenant: string; key: string } {
  const separator = entry.indexOf("=");
  if (separator > 0) {
    const name = entry.slice(0, separator);
    if (TENANT_NAME.test(name)) return { tenant: name, key: entry.slice(separator + 1) };
  }
  return { tenant: DEFAULT_TENANT, key: entry };
}
