import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Logger, TimeoutError } from "@recfleet/runtime";
import { z } from "zod";
import { type MessageSummary, summarizeMessage } from "./message-summary.ts";

const mailAddressSchema = z.object({ name: z.string(), address: z.string() });

const storedMessageSchema = z.object({
  id: z.string(),
  receivedAt: z.string(),
  envelope: z.object({ from: z.string(), to: z.array(z.string()) }),
  subject: z.string(),
  from: z.array(mailAddressSchema),
  to: z.array(mailAddressSchema),
  cc: z.array(mailAddressSchema),
  messageId: z.string().nullable(),
  date: z.string().nullable(),
  hasText: z.boolean(),
  hasHtml: z.boolean(),
  attachments: z.number(),
  parseError: z.string().optional(),
  size: z.number(),
  file: z.string(),
  authUser: z.string().nullable(),
  remoteAddress: z.string(),
});

/** One index entry: `<id>.json` beside the raw `<id>.eml`. */
export type StoredMessage = z.infer<typeof storedMessageSchema>;

export interface Envelope {
  /** MAIL FROM; an empty string for the null sender. */
  from: string;
  /** Every accepted RCPT TO. */
  to: string[];
}

export interface ArrivalDetails {
  authUser: string | null;
  remoteAddress: string;
}

export interface MessageFilter {
  /** A recipient address (envelope, To or Cc), compared case-insensitively. */
  to?: string;
  /** An ISO time (messages received at or after it) or a message id (messages received after it). */
  since?: string;
}

export class InvalidFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidFilterError";
  }
}

// Ids sort in arrival order: time in base 36, then a per-process sequence, then randomness so two
// processes sharing a directory never collide.
const ID_PATTERN = /^[0-9a-z]{9}-[0-9a-z]{4}-[0-9a-f]{6}$/;
const STORED_FILE = /^([0-9a-z]{9}-[0-9a-z]{4}-[0-9a-f]{6})\.(eml|json)$/;
const TEMP_FILE = /^\..+\.tmp$/;
let sequence = 0;

function newId(now: number): string {
  sequence = (sequence + 1) % 36 ** 4;
  return `${now.toString(36).padStart(9, "0")}-${sequence.toString(36).padStart(4, "0")}-${randomBytes(3).toString("hex")}`;
}

export function isMessageId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** Writes beside the target and renames, so a reader or a crash never sees half a file. */
async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, data, { flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function compileFilter(filter: MessageFilter): (message: StoredMessage) => boolean {
  const tests: ((message: StoredMessage) => boolean)[] = [];
  if (filter.to !== undefined) {
    const wanted = filter.to.trim().toLowerCase();
    if (wanted === "") throw new InvalidFilterError("the `to` filter is empty");
    tests.push(
      (message) =>
        message.envelope.to.some((address) => address.toLowerCase() === wanted) ||
        [...message.to, ...message.cc].some((entry) => entry.address.toLowerCase() === wanted),
    );
  }
  if (filter.since !== undefined) {
    const since = filter.since.trim();
    if (isMessageId(since)) {
      tests.push((message) => message.id > since);
    } else {
      const time = Date.parse(since);
      if (Number.isNaN(time)) {
        throw new InvalidFilterError(
          `since must be an ISO time or a message id, got ${JSON.stringify(since)}`,
        );
      }
      tests.push((message) => Date.parse(message.receivedAt) >= time);
    }
  }
  return (message) => tests.every((test) => test(message));
}

/**
 * Received messages on disk: each one is `<id>.eml` (the bytes as received) plus `<id>.json`
 * (its index entry). The JSON is written last, so a message is listed only once it is complete,
 * and a restart reads the directory back.
 */
export class MessageStore {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly entries = new Map<string, StoredMessage>();
  private readonly listeners = new Set<() => void>();

  private constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.logger = logger;
  }

  static async open(dir: string, logger: Logger): Promise<MessageStore> {
    const store = new MessageStore(dir, logger);
    await mkdir(dir, { recursive: true });
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    const names = new Set(await readdir(this.dir));
    for (const name of names) {
      if (TEMP_FILE.test(name)) {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      const match = STORED_FILE.exec(name);
      if (match?.[2] !== "json") continue;
      const id = match[1] as string;
      try {
        const entry = storedMessageSchema.parse(JSON.parse(await readFile(join(this.dir, name), "utf8")));
        if (entry.id !== id) throw new Error(`it describes message ${entry.id}`);
        if (!names.has(entry.file)) throw new Error(`its raw message ${entry.file} is missing`);
        this.entries.set(id, entry);
      } catch (error) {
        this.logger.warn({ file: name, err: error }, "skipping an unreadable index entry");
      }
    }
    for (const name of names) {
      const match = STORED_FILE.exec(name);
      // The JSON is written after the .eml and before the client hears 250, so a lone .eml is a
      // message that was never acknowledged: the client will send it again.
      if (match?.[2] === "eml" && !this.entries.has(match[1] as string)) {
        this.logger.warn({ file: name }, "ignoring a raw message without an index entry");
      }
    }
  }

  /** Stores a message and resolves once both of its files are in place. */
  async add(raw: Buffer, envelope: Envelope, details: ArrivalDetails): Promise<StoredMessage> {
    const now = Date.now();
    const id = newId(now);
    const summary: MessageSummary = await summarizeMessage(raw);
    const entry: StoredMessage = {
      id,
      receivedAt: new Date(now).toISOString(),
      envelope: { from: envelope.from, to: [...envelope.to] },
      ...summary,
      size: raw.length,
      file: `${id}.eml`,
      authUser: details.authUser,
      remoteAddress: details.remoteAddress,
    };
    await writeAtomically(join(this.dir, entry.file), raw);
    await writeAtomically(join(this.dir, `${id}.json`), `${JSON.stringify(entry, null, 2)}\n`);
    this.entries.set(id, entry);
    for (const listener of [...this.listeners]) listener();
    return entry;
  }

  /** Messages oldest first, optionally filtered; throws InvalidFilterError on a bad filter. */
  list(filter: MessageFilter = {}): StoredMessage[] {
    const accept = compileFilter(filter);
    return [...this.entries.values()].filter(accept).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): StoredMessage | undefined {
    return this.entries.get(id);
  }

  /** The raw bytes as received, or undefined for an unknown id. */
  async raw(id: string): Promise<Buffer | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    try {
      return await readFile(join(this.dir, entry.file));
    } catch (error) {
      // Cleared while being read.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  /** Deletes every stored message (and stray files of the store) and returns how many were listed. */
  async clear(): Promise<number> {
    const count = this.entries.size;
    this.entries.clear();
    for (const name of await readdir(this.dir)) {
      if (STORED_FILE.test(name) || TEMP_FILE.test(name)) {
        await unlink(join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
        });
      }
    }
    return count;
  }

  /**
   * Resolves with the matching messages once there are at least `count` of them; rejects with a
   * TimeoutError after `timeoutMs`, or with the signal's reason when it aborts.
   */
  waitFor(
    count: number,
    timeoutMs: number,
    filter: MessageFilter = {},
    signal?: AbortSignal,
  ): Promise<StoredMessage[]> {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new RangeError(`waiting needs a message count ≥ 1, got ${String(count)}`);
    }
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      throw new RangeError(`waiting needs a timeout ≥ 1 ms, got ${String(timeoutMs)}`);
    }
    const accept = compileFilter(filter);
    const matching = () => this.list().filter(accept);
    const now = matching();
    if (now.length >= count) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(onMessage);
        signal?.removeEventListener("abort", onAbort);
      };
      const onMessage = () => {
        const found = matching();
        if (found.length < count) return;
        finish();
        resolve(found);
      };
      const onAbort = () => {
        finish();
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new TimeoutError(`waiting for ${count} message(s) (${matching().length} arrived)`, timeoutMs));
      }, timeoutMs);
      this.listeners.add(onMessage);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
