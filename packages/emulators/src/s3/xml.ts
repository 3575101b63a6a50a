// XML in and out. Answers are built as strings in the element order MinIO writes them; request
// bodies (CompleteMultipartUpload, Delete, CreateBucketConfiguration) have small fixed schemas
// read by a strict extractor: anything else is MalformedXML, as S3 answers.
import { CHECKSUM_ALGORITHMS, checksumElement } from "./checksums.ts";
import { S3Error } from "./errors.ts";
import type { PartChecksum } from "./store.ts";

export const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
}

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all (even escaped): Go's encoder writes U+FFFD instead.
  return Array.from(text, (char) => (isXmlChar(char.codePointAt(0) ?? 0) ? char : "\uFFFD"))
    .join("")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

type Content = string | number | boolean | undefined;

/** `<name>escaped value</name>`; an undefined value leaves the element out. */
export function el(name: string, value: Content): string {
  if (value === undefined) return "";
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** An element whose children are already XML. */
export function group(name: string, ...children: string[]): string {
  return `<${name}>${children.join("")}</${name}>`;
}

export function document(root: string, ...children: string[]): string {
  return `${XML_HEADER}<${root} xmlns="${S3_NAMESPACE}">${children.join("")}</${root}>`;
}

function decodeText(raw: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(raw);
  if (cdata) return cdata[1] ?? "";
  if (/<[^>]*>/.test(raw)) throw new S3Error("MalformedXML");
  return raw.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, entity: string) => {
    switch (entity) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default: {
        const code = entity.startsWith("#x") ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
        if (!Number.isInteger(code) || code < 0 || code > 0x10ffff) throw new S3Error("MalformedXML");
        return String.fromCodePoint(code);
      }
    }
  });
}

function stripProlog(xml: string): string {
  return xml
    .replace(/^\uFEFF/, "")
    .replace(/<\?xml[\s\S]*?\?>/, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .trim();
}

/** The inner XML of each `<name>` element directly found in `xml` (attributes allowed). */
function elements(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>|<${name}(?:\\s[^>]*)?/>`, "g");
  return [...xml.matchAll(pattern)].map((match) => match[1] ?? "");
}

function rootContent(xml: string, root: string): string {
  const body = stripProlog(xml);
  const match = new RegExp(`^<${root}(?:\\s[^>]*)?>([\\s\\S]*)</${root}>$`).exec(body);
  if (!match) throw new S3Error("MalformedXML");
  return match[1] ?? "";
}

function single(xml: string, name: string): string | undefined {
  const found = elements(xml, name);
  if (found.length > 1) throw new S3Error("MalformedXML");
  return found[0] === undefined ? undefined : decodeText(found[0]);
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
  /** The part's checksum as the client lists it (`<ChecksumCRC32>` …), when it does. */
  checksum?: PartChecksum;
}

/** `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"…"</ETag></Part>…` */
export function parseCompleteMultipartUpload(xml: string): CompletedPart[] {
  const parts = elements(rootContent(xml, "CompleteMultipartUpload"), "Part").map((part) => {
    const partNumber = single(part, "PartNumber")?.trim();
    const etag = single(part, "ETag");
    if (partNumber === undefined || !/^\d+$/.test(partNumber) || etag === undefined) {
      throw new S3Error("MalformedXML");
    }
    const completed: CompletedPart = { partNumber: Number(partNumber), etag: etag.trim() };
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = single(part, checksumElement(algorithm))?.trim();
      if (value !== undefined) completed.checksum = { algorithm, value };
    }
    return completed;
  });
  if (parts.length === 0) throw new S3Error("MalformedXML");
  return parts;
}

/** `<Delete><Quiet>true</Quiet><Object><Key>…</Key></Object>…</Delete>` */
export function parseDeleteObjects(xml: string): { keys: string[]; quiet: boolean } {
  const content = rootContent(xml, "Delete");
  const keys = elements(content, "Object").map((object) => {
    const key = single(object, "Key");
    if (key === undefined || key === "") throw new S3Error("MalformedXML");
    return key;
  });
  if (keys.length === 0 || keys.length > 1000) throw new S3Error("MalformedXML");
  return { keys, quiet: single(content, "Quiet")?.trim().toLowerCase() === "true" };
}

/** The LocationConstraint of a MakeBucket body; an empty body means the default region. */
export function parseLocationConstraint(xml: string): string {
  if (xml.trim() === "") return "";
  return single(rootContent(xml, "CreateBucketConfiguration"), "LocationConstraint")?.trim() ?? "";
}
