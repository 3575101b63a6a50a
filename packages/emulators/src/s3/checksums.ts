// S3's flexible checksums (x-amz-checksum-*), computed as S3 and MinIO compute them: CRC32,
// CRC32C (Castagnoli), CRC64NVME, SHA-1 and SHA-256, each sent and stored as the base64 of the
// big-endian digest. https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";

export const CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** The request and response header of an algorithm's value, e.g. `x-amz-checksum-crc32`. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The algorithm a header, a trailer or x-amz-sdk-checksum-algorithm names; undefined if none. */
export function algorithmNamed(name: string): ChecksumAlgorithm | undefined {
  const upper = name
    .trim()
    .toUpperCase()
    .replace(/^X-AMZ-CHECKSUM-/, "");
  return CHECKSUM_ALGORITHMS.find((algorithm) => algorithm === upper);
}

/** The element of an algorithm in S3's XML (CompleteMultipartUpload, ListParts): `ChecksumCRC32`. */
export function checksumElement(algorithm: ChecksumAlgorithm): string {
  return `Checksum${algorithm}`;
}

export interface Checksummer {
  update(chunk: Buffer): void;
  /** The base64 value, as the header carries it. */
  digest(): string;
}

function table32(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32C_TABLE = table32(0x82f63b78);

function crc32c(): Checksummer {
  let crc = 0xffffffff;
  return {
    update(chunk) {
      for (const byte of chunk) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
      return out.toString("base64");
    },
  };
}

// CRC64NVME: reflected polynomial 0x9a6c9329ac4bc9b5 (0xad93d23594c93659 bit-reversed), kept as
// two 32-bit halves so that each byte costs a few integer operations, not BigInt arithmetic.
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
for (let n = 0; n < 256; n += 1) {
  let lo = n;
  let hi = 0;
  for (let k = 0; k < 8; k += 1) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      lo = (lo ^ 0xac4bc9b5) >>> 0;
      hi = (hi ^ 0x9a6c9329) >>> 0;
    }
  }
  CRC64_LO[n] = lo;
  CRC64_HI[n] = hi;
}

function crc64nvme(): Checksummer {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  return {
    update(chunk) {
      for (const byte of chunk) {
        const index = (lo ^ byte) & 0xff;
        lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_LO[index] ?? 0)) >>> 0;
        hi = ((hi >>> 8) ^ (CRC64_HI[index] ?? 0)) >>> 0;
      }
    },
    digest() {
      const out = Buffer.alloc(8);
      out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
      out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
      return out.toString("base64");
    },
  };
}

function zlibCrc32(): Checksummer {
  let crc = 0;
  return {
    update(chunk) {
      crc = crc32(chunk, crc);
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out.toString("base64");
    },
  };
}

function hashed(hash: Hash): Checksummer {
  return {
    update: (chunk) => hash.update(chunk),
    digest: () => hash.digest("base64"),
  };
}

export function createChecksummer(algorithm: ChecksumAlgorithm): Checksummer {
  switch (algorithm) {
    case "CRC32":
      return zlibCrc32();
    case "CRC32C":
      return crc32c();
    case "CRC64NVME":
      return crc64nvme();
    case "SHA1":
      return hashed(createHash("sha1"));
    case "SHA256":
      return hashed(createHash("sha256"));
  }
}

/** The checksum of these bytes. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  const checksummer = createChecksummer(algorithm);
  checksummer.update(data);
  return checksummer.digest();
}

/** How many bytes a valid value of the algorithm decodes to. */
export function digestLength(algorithm: ChecksumAlgorithm): number {
  return { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 }[algorithm];
}

/**
 * A multipart upload's COMPOSITE checksum: the checksum of the parts' raw checksums, with the
 * part count (`<base64>-<parts>`), as S3 and MinIO report it.
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partValues: readonly string[]): string {
  const checksummer = createChecksummer(algorithm);
  for (const value of partValues) checksummer.update(Buffer.from(value, "base64"));
  return `${checksummer.digest()}-${partValues.length}`;
}
