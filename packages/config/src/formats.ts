// Strict convict formats. Convict's built-ins coerce loosely (parseInt("12abc") is 12, any string
// but "false" is true), which would let a typo start a production process; these formats keep
// the raw string when it does not parse, so validation reports it with a clear message.
import convict from "convict";
import { MIN_KEY_LENGTH, parseApiKeyEntry } from "./api-keys.ts";

const INTEGER = /^-?\d+$/;

function strictInt(value: unknown): unknown {
  return typeof value === "string" && INTEGER.test(value.trim()) ? Number(value.trim()) : value;
}

/** "a, b,,c" → ["a", "b", "c"]: how every list setting is written in the environment. */
function commaList(value: unknown): unknown {
  return typeof value === "string"
    ? value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "")
    : value;
}

function assertIntIn(value: unknown, min: number, max: number, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`must be ${what}`);
  }
}

/** `a` or `a/b/c`: safe characters, no empty, `.` or `..` segment, no leading or trailing `/`. */
function isObjectPrefix(value: string): boolean {
  return value.split("/").every((segment) => /^[A-Za-z0-9._-]+$/.test(segment) && !/^\.\.?$/.test(segment));
}

function parseUrl(value: unknown, expected: string): URL {
  try {
    return new URL(String(value));
  } catch {
    throw new Error(`must be ${expected}`);
  }
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

export function registerFormats(): void {
  convict.addFormats({
    "strict-boolean": {
      coerce: (value: unknown) => {
        if (typeof value !== "string") return value;
        const lower = value.trim().toLowerCase();
        if (TRUE.has(lower)) return true;
        if (FALSE.has(lower)) return false;
        return value;
      },
      validate: (value: unknown) => {
        if (typeof value !== "boolean") throw new Error("must be true or false");
      },
    },
    port: {
      coerce: strictInt,
      validate: (value: unknown) => assertIntIn(value, 0, 65535, "a port number from 0 to 65535"),
    },
    "positive-int": {
      coerce: strictInt,
      validate: (value: unknown) => assertIntIn(value, 1, Number.MAX_SAFE_INTEGER, "a whole number ≥ 1"),
    },
    "non-negative-int": {
      coerce: strictInt,
      validate: (value: unknown) => assertIntIn(value, 0, Number.MAX_SAFE_INTEGER, "a whole number ≥ 0"),
    },
    "link-expiry-seconds": {
      coerce: strictInt,
      // SigV4 presigned URLs are valid for at most 7 days.
      validate: (value: unknown) =>
        assertIntIn(value, 1, 604_800, "a number of seconds from 1 to 604800 (7 days)"),
    },
    "callback-timeout-ms": {
      coerce: strictInt,
      // A receiver slower than this holds a delivery worker: Standard Webhooks senders use ~15 s.
      validate: (value: unknown) => assertIntIn(value, 1, 10_000, "a number of milliseconds from 1 to 10000"),
    },
    "redis-url": {
      validate: (value: unknown) => {
        const expected = "a redis:// or rediss:// URL such as redis://127.0.0.1:6379";
        const url = parseUrl(value, expected);
        if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`must be ${expected}`);
      },
    },
    "http-url": {
      validate: (value: unknown) => {
        const expected = "an http(s):// or ws(s):// URL";
        const url = parseUrl(value, expected);
        if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol))
          throw new Error(`must be ${expected}`);
      },
    },
    "optional-http-url": {
      validate: (value: unknown) => {
        if (value === "") return;
        const expected = "empty or an http(s):// URL";
        const url = parseUrl(value, expected);
        if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`must be ${expected}`);
      },
    },
    "expire-days": {
      coerce: (value: unknown) =>
        typeof value === "string" && /^\d+(?:\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : value,
      validate: (value: unknown) => {
        if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 3650) {
          throw new Error("must be a number of days from 0 (never) to 3650, such as 30 or 0.5");
        }
      },
    },
    "public-base-url": {
      validate: (value: unknown) => {
        const expected =
          "the API's public base URL, such as https://recordings.example.com (links are built from it, never from a request's Host header)";
        if (value === "") throw new Error(`must be set to ${expected}`);
        const url = parseUrl(value, expected);
        if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
          throw new Error(`must be ${expected}`);
        }
      },
    },
    "dashboard-password": {
      validate: (value: unknown) => {
        if (typeof value !== "string") throw new Error("must be a string");
        if (value !== "" && value.length < 12)
          throw new Error("must be at least 12 characters long (or empty: no dashboard)");
      },
    },
    "trust-proxy": {
      validate: (value: unknown) => {
        if (typeof value !== "string") throw new Error("must be a string");
        const entries = value.split(",").map((entry) => entry.trim());
        if (value.trim() === "" || value.trim() === "false" || /^\d{1,2}$/.test(value.trim())) return;
        const named = new Set(["loopback", "linklocal", "uniquelocal"]);
        const address = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(?:\/\d{1,3})?$/i;
        if (entries.some((entry) => !named.has(entry) && !address.test(entry))) {
          throw new Error(
            "must be empty (trust no proxy), a hop count such as 1, or a comma-separated list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal",
          );
        }
      },
    },
    "required-string": {
      validate: (value: unknown) => {
        if (typeof value !== "string" || value.trim() === "") throw new Error("must be set");
      },
    },
    "optional-string": {
      validate: (value: unknown) => {
        if (typeof value !== "string") throw new Error("must be a string");
      },
    },
    "key-prefix": {
      validate: (value: unknown) => {
        if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
          throw new Error("must be 1-64 letters, digits, '-' or '_' (it becomes part of Redis keys)");
        }
      },
    },
    "object-prefix": {
      validate: (value: unknown) => {
        if (typeof value !== "string" || value === "" || !isObjectPrefix(value)) {
          throw new Error(
            "must be a path like 'recordings' or 'meet/recordings' (no leading or trailing '/', no '.' or '..')",
          );
        }
      },
    },
    "optional-object-prefix": {
      validate: (value: unknown) => {
        if (typeof value !== "string" || (value !== "" && !isObjectPrefix(value))) {
          throw new Error(
            "must be empty or a path like 'egress' or 'meet/egress' (no leading or trailing '/', no '.' or '..')",
          );
        }
      },
    },
    "secret-list": {
      coerce: commaList,
      validate: (value: unknown) => {
        if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
          throw new Error("must be a comma-separated list");
        }
        if (value.some((item: string) => parseApiKeyEntry(item).key.length < MIN_KEY_LENGTH)) {
          throw new Error(`every key must be at least ${MIN_KEY_LENGTH} characters long`);
        }
      },
    },
    "base-url-list": {
      coerce: commaList,
      validate: (value: unknown) => {
        if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
          throw new Error("must be a comma-separated list of http(s) URLs");
        }
        for (const item of value as string[]) {
          const url = URL.canParse(item) ? new URL(item) : undefined;
          if (
            !url ||
            (url.protocol !== "http:" && url.protocol !== "https:") ||
            url.username !== "" ||
            url.password !== "" ||
            url.search !== "" ||
            url.hash !== ""
          ) {
            throw new Error(
              `must be http(s) URLs without credentials, query or fragment, such as https://templates.example/recording/; "${item.slice(0, 100)}" is not`,
            );
          }
        }
      },
    },
    "encoding-dimension": {
      coerce: strictInt,
      // Egress' own rule for EncodingOptions width and height.
      validate: (value: unknown) => {
        assertIntIn(value, 16, 7680, "an even number of pixels from 16 to 7680");
        if ((value as number) % 2 !== 0) throw new Error("must be an even number of pixels from 16 to 7680");
      },
    },
    "encoding-framerate": {
      coerce: strictInt,
      validate: (value: unknown) => assertIntIn(value, 1, 60, "a frame rate from 1 to 60"),
    },
    email: {
      validate: (value: unknown) => {
        // "Name <addr@host>" or a bare address; nodemailer accepts both.
        if (
          typeof value !== "string" ||
          !/^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.?[^\s@<>]*>?$/.test(value.trim())
        ) {
          throw new Error('must be an email address such as "recfleet <no-reply@example.com>"');
        }
      },
    },
    "byte-size": {
      coerce: (value: unknown) => {
        if (typeof value !== "string") return value;
        const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i.exec(value.trim());
        if (!match) return value;
        const unit = (match[2] ?? "b").toLowerCase();
        const factor = unit === "b" ? 1 : unit.startsWith("k") ? 1024 : 1024 * 1024;
        return Number(match[1]) * factor;
      },
      validate: (value: unknown) =>
        assertIntIn(value, 1, 64 * 1024 * 1024, "a size such as 16kb, 1mb or a byte count"),
    },
    "time-zone": {
      validate: (value: unknown) => {
        try {
          new Intl.DateTimeFormat("en", { timeZone: String(value) });
        } catch {
          throw new Error("must be an IANA time zone such as Europe/Paris or UTC");
        }
      },
    },
  });
}
