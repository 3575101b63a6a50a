import PostalMime, { type Address, type Email } from "postal-mime";

export interface MailAddress {
  name: string;
  address: string;
}

/** What the index keeps about a message's headers and parts. */
export interface MessageSummary {
  subject: string;
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  /** The Message-ID header, angle brackets included, or null when the message has none. */
  messageId: string | null;
  /** The Date header as postal-mime reads it, or null. */
  date: string | null;
  hasText: boolean;
  hasHtml: boolean;
  attachments: number;
  /** Set when the message could not be parsed; it is stored all the same, as a real server would. */
  parseError?: string;
}

function flatten(addresses: readonly Address[] | Address | undefined): MailAddress[] {
  if (!addresses) return [];
  const list: readonly Address[] = Array.isArray(addresses) ? addresses : [addresses as Address];
  return list.flatMap((entry) =>
    entry.group
      ? entry.group.map((member) => ({ name: member.name, address: member.address }))
      : [{ name: entry.name, address: entry.address ?? "" }],
  );
}

export function parseMessage(raw: Uint8Array): Promise<Email> {
  return PostalMime.parse(raw);
}

export async function summarizeMessage(raw: Uint8Array): Promise<MessageSummary> {
  try {
    const email = await parseMessage(raw);
    return {
      subject: email.subject ?? "",
      from: flatten(email.from),
      to: flatten(email.to),
      cc: flatten(email.cc),
      messageId: email.messageId ?? null,
      date: email.date ?? null,
      hasText: typeof email.text === "string",
      hasHtml: typeof email.html === "string",
      attachments: email.attachments.length,
    };
  } catch (error) {
    return {
      subject: "",
      from: [],
      to: [],
      cc: [],
      messageId: null,
      date: null,
      hasText: false,
      hasHtml: false,
      attachments: 0,
      parseError: (error as Error).message,
    };
  }
}
