// Percent-encodings S3 uses in three places: SigV4 canonical requests, query strings, and
// listings answered with `encoding-type=url`.

const hex = (byte: number) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;

/**
 * SigV4's URI encoding (RFC 3986): every byte except A-Z a-z 0-9 - _ . ~ is %XX-encoded, with
 * upper-case hex; `/` is kept when encoding a path.
 */
export function sigV4Encode(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(/[!'()*]/g, (char) => hex(char.charCodeAt(0)));
  return keepSlash ? encoded.replace(/%2F/g, "/") : encoded;
}

/**
 * MinIO's `s3URLEncode` for listings with `encoding-type=url`: Go's QueryEscape (space as `+`)
 * except that `/` and `*` stay and `~` is encoded. minio-js decodes it with `+` → space first.
 */
export function listingEncode(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_./*]/.test(char)) out += char;
    else if (char === " ") out += "+";
    else out += hex(byte);
  }
  return out;
}

export class MalformedEncodingError extends Error {
  constructor(value: string) {
    super(`malformed percent-encoding in ${JSON.stringify(value.slice(0, 100))}`);
    this.name = "MalformedEncodingError";
  }
}

/** Decodes %XX sequences as UTF-8; `plusAsSpace` for query strings (Go's url.ParseQuery does). */
export function percentDecode(value: string, plusAsSpace: boolean): string {
  try {
    return decodeURIComponent(plusAsSpace ? value.replace(/\+/g, " ") : value);
  } catch {
    throw new MalformedEncodingError(value);
  }
}

export interface QueryParam {
  readonly name: string;
  readonly value: string;
}

/** A request's query string, decoded, in the order sent; a name may repeat (`events=…&events=…`). */
export class Query {
  readonly params: readonly QueryParam[];

  constructor(params: readonly QueryParam[]) {
    this.params = params;
  }

  static parse(raw: string): Query {
    const params: QueryParam[] = [];
    for (const pair of raw.split("&")) {
      if (pair === "") continue;
      const equals = pair.indexOf("=");
      const name = equals < 0 ? pair : pair.slice(0, equals);
      const value = equals < 0 ? "" : pair.slice(equals + 1);
      params.push({ name: percentDecode(name, true), value: percentDecode(value, true) });
    }
    return new Query(params);
  }

  has(name: string): boolean {
    return this.params.some((param) => param.name === name);
  }

  /** The first value of `name`, like Go's url.Values.Get. */
  get(name: string): string | undefined {
    return this.params.find((param) => param.name === name)?.value;
  }

  getAll(name: string): string[] {
    return this.params.filter((param) => param.name === name).map((param) => param.value);
  }

  /** SigV4's canonical query string: names and values encoded, sorted by name then value. */
  canonical(exclude?: string): string {
    return this.params
      .filter((param) => param.name !== exclude)
      .map((param) => [sigV4Encode(param.name), sigV4Encode(param.value)] as const)
      .sort(([nameA, valueA], [nameB, valueB]) => compareAscii(nameA, nameB) || compareAscii(valueA, valueB))
      .map(([name, value]) => `${name}=${value}`)
      .join("&");
  }
}

function compareAscii(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** S3 orders keys by their UTF-8 bytes (JavaScript's `<` compares UTF-16 units, which differs). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
