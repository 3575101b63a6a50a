import { MIME } from "./encoding.ts";

/** How many bytes a recording of this bitrate and length would hold, capped so tests stay small. */
export function payloadSize(bitrateKbps: number, activeMs: number, capBytes: number): number {
  const bytes = Math.round((Math.max(0, bitrateKbps) * 1000 * Math.max(0, activeMs)) / 1000 / 8);
  return Math.max(MIN_PAYLOAD_BYTES, Math.min(capBytes, bytes));
}

// Room for the container header below, so even a zero-length recording is a recognisable file.
const MIN_PAYLOAD_BYTES = 64;

function mp4Header(total: number): Buffer {
  // ftyp box (isom, brands isom/iso2/avc1/mp41) followed by a `free` box that spans the rest.
  const ftyp = Buffer.alloc(32);
  ftyp.writeUInt32BE(32, 0);
  ftyp.write("ftypisom", 4, "latin1");
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write("isomiso2avc1mp41", 16, "latin1");
  const free = Buffer.alloc(8);
  free.writeUInt32BE(total - 32, 0);
  free.write("free", 4, "latin1");
  return Buffer.concat([ftyp, free]);
}

function magic(contentType: string, total: number): Buffer {
  if (contentType === MIME.mp4) return mp4Header(total);
  if (contentType === MIME.ogg) return Buffer.from("OggS\0\x02", "latin1");
  // EBML's magic and a DocType "webm" element (RFC 8794; Matroska's WebM profile).
  if (contentType === MIME.webm) return Buffer.from("\x1a\x45\xdf\xa3\x42\x82\x84webm", "latin1");
  return Buffer.from("ID3\x04\0\0", "latin1");
}

/**
 * A stand-in for the encoded file: the container's magic bytes (so `file` and content sniffers
 * recognise it), then filler derived from the egress id so two recordings never look identical.
 */
export function generatePayload(contentType: string, size: number, seed: string): Buffer {
  const payload = Buffer.alloc(size);
  const header = magic(contentType, size);
  header.copy(payload, 0);
  const filler = Buffer.from(`${seed} `, "latin1");
  for (let offset = header.length; offset < size; offset += filler.length) {
    filler.copy(payload, offset, 0, Math.min(filler.length, size - offset));
  }
  return payload;
}
