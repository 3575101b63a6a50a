// AMF0, the encoding of RTMP's command messages (connect, createStream, publish, onStatus):
// only the types those commands use.

export type AmfValue = number | boolean | string | null | undefined | AmfObject;
export interface AmfObject {
  [key: string]: AmfValue;
}

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const OBJECT = 0x03;
const NULL = 0x05;
const UNDEFINED = 0x06;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;

function shortString(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function encodeOne(value: AmfValue): Buffer {
  if (value === null) return Buffer.from([NULL]);
  if (value === undefined) return Buffer.from([UNDEFINED]);
  if (typeof value === "number") {
    const bytes = Buffer.alloc(9);
    bytes[0] = NUMBER;
    bytes.writeDoubleBE(value, 1);
    return bytes;
  }
  if (typeof value === "boolean") return Buffer.from([BOOLEAN, value ? 1 : 0]);
  if (typeof value === "string") return Buffer.concat([Buffer.from([STRING]), shortString(value)]);
  const parts: Buffer[] = [Buffer.from([OBJECT])];
  for (const [key, inner] of Object.entries(value)) parts.push(shortString(key), encodeOne(inner));
  parts.push(Buffer.from([0, 0, OBJECT_END]));
  return Buffer.concat(parts);
}

export function encodeAmf(values: readonly AmfValue[]): Buffer {
  return Buffer.concat(values.map(encodeOne));
}

export class AmfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AmfError";
  }
}

/** Decodes a command message's values; throws AmfError on anything malformed or unknown. */
export function decodeAmf(bytes: Buffer): AmfValue[] {
  let offset = 0;
  const need = (count: number) => {
    if (offset + count > bytes.length) throw new AmfError("truncated AMF0 value");
  };
  const readShortString = (): string => {
    need(2);
    const length = bytes.readUInt16BE(offset);
    offset += 2;
    need(length);
    const text = bytes.toString("utf8", offset, offset + length);
    offset += length;
    return text;
  };
  const readProperties = (): AmfObject => {
    const object: AmfObject = {};
    for (;;) {
      const key = readShortString();
      need(1);
      if (key === "" && bytes[offset] === OBJECT_END) {
        offset += 1;
        return object;
      }
      object[key] = readOne();
    }
  };
  const readOne = (): AmfValue => {
    need(1);
    const marker = bytes[offset];
    offset += 1;
    switch (marker) {
      case NUMBER: {
        need(8);
        const value = bytes.readDoubleBE(offset);
        offset += 8;
        return value;
      }
      case BOOLEAN:
        need(1);
        offset += 1;
        return bytes[offset - 1] !== 0;
      case STRING:
        return readShortString();
      case OBJECT:
        return readProperties();
      case ECMA_ARRAY:
        need(4);
        offset += 4;
        return readProperties();
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      default:
        throw new AmfError(`unsupported AMF0 type 0x${(marker ?? 0).toString(16)}`);
    }
  };
  const values: AmfValue[] = [];
  while (offset < bytes.length) values.push(readOne());
  return values;
}
