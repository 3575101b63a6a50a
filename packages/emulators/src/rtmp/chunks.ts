// RTMP's chunk stream (the RTMP 1.0 specification, §5.3): messages cut into chunks of at most
// the peer's chunk size, each with a basic header (format, chunk stream id) and, depending on
// the format, a message header that repeats only what changed.

export const MESSAGE_TYPE = {
  setChunkSize: 1,
  acknowledgement: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  command: 20,
} as const;

/** Chunk stream ids by convention: protocol control, commands, media. */
export const CHUNK_STREAM = { control: 2, command: 3, media: 6 } as const;

export const DEFAULT_CHUNK_SIZE = 128;
const EXTENDED = 0xffffff;
/** Larger messages are refused: no command or test media needs more, and a peer cannot make us buffer more. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface RtmpMessage {
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

export class ChunkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChunkError";
  }
}

function basicHeader(format: number, chunkStream: number): Buffer {
  if (chunkStream < 2 || chunkStream > 63) throw new RangeError("chunk stream ids 2 to 63 only");
  return Buffer.from([(format << 6) | chunkStream]);
}

/** One message as format-0 chunks (a full header), then format-3 continuations. */
export function encodeMessage(chunkStream: number, message: RtmpMessage, chunkSize: number): Buffer {
  const extended = message.timestamp >= EXTENDED;
  const header = Buffer.alloc(11);
  header.writeUIntBE(extended ? EXTENDED : message.timestamp, 0, 3);
  header.writeUIntBE(message.payload.length, 3, 3);
  header[6] = message.type;
  header.writeUInt32LE(message.streamId, 7);
  const extendedStamp = Buffer.alloc(extended ? 4 : 0);
  if (extended) extendedStamp.writeUInt32BE(message.timestamp);
  const parts = [basicHeader(0, chunkStream), header, extendedStamp];
  for (let offset = 0; offset < message.payload.length || offset === 0; offset += chunkSize) {
    if (offset > 0) parts.push(basicHeader(3, chunkStream), extendedStamp);
    parts.push(message.payload.subarray(offset, offset + chunkSize));
    if (message.payload.length === 0) break;
  }
  return Buffer.concat(parts);
}

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
  received: Buffer[];
  receivedBytes: number;
}

/**
 * Reassembles messages from the bytes of a connection, in the order they complete. The peer's
 * Set Chunk Size messages are applied as they arrive.
 */
export class ChunkReader {
  private buffer: Buffer = Buffer.alloc(0);
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStreamState>();
  private readonly onMessage: (message: RtmpMessage) => void;

  constructor(onMessage: (message: RtmpMessage) => void) {
    this.onMessage = onMessage;
  }

  push(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    for (;;) {
      const used = this.readChunk();
      if (used === 0) return;
      this.buffer = this.buffer.subarray(used);
    }
  }

  /** Reads one chunk from the buffer; answers the bytes it took, 0 when it is incomplete. */
  private readChunk(): number {
    const bytes = this.buffer;
    if (bytes.length < 1) return 0;
    const first = bytes[0] ?? 0;
    const format = first >> 6;
    let chunkStream = first & 0x3f;
    let offset = 1;
    if (chunkStream === 0) {
      if (bytes.length < 2) return 0;
      chunkStream = (bytes[1] ?? 0) + 64;
      offset = 2;
    } else if (chunkStream === 1) {
      if (bytes.length < 3) return 0;
      chunkStream = (bytes[2] ?? 0) * 256 + (bytes[1] ?? 0) + 64;
      offset = 3;
    }
    const headerLength = [11, 7, 3, 0][format] ?? 0;
    if (bytes.length < offset + headerLength) return 0;
    const previous = this.streams.get(chunkStream);
    if (format !== 0 && !previous)
      throw new ChunkError(`chunk stream ${chunkStream} starts without a full header`);
    const state: ChunkStreamState = previous ?? {
      timestamp: 0,
      delta: 0,
      length: 0,
      type: 0,
      streamId: 0,
      extended: false,
      received: [],
      receivedBytes: 0,
    };
    const startsMessage = state.receivedBytes === 0;
    let stamp = 0;
    if (format <= 2) {
      stamp = bytes.readUIntBE(offset, 3);
      state.extended = stamp === EXTENDED;
    }
    if (format <= 1) {
      state.length = bytes.readUIntBE(offset + 3, 3);
      state.type = bytes[offset + 6] ?? 0;
      if (state.length > MAX_MESSAGE_BYTES) throw new ChunkError(`message of ${state.length} bytes refused`);
    }
    if (format === 0) state.streamId = bytes.readUInt32LE(offset + 7);
    offset += headerLength;
    if (state.extended) {
      if (bytes.length < offset + 4) return 0;
      if (format <= 2) stamp = bytes.readUInt32BE(offset);
      offset += 4;
    }
    const take = Math.min(this.chunkSize, state.length - state.receivedBytes);
    if (bytes.length < offset + take) return 0;
    if (startsMessage) {
      if (format === 0) state.timestamp = stamp;
      else if (format <= 2) {
        state.delta = stamp;
        state.timestamp += stamp;
      } else state.timestamp += state.delta;
    }
    state.received.push(bytes.subarray(offset, offset + take));
    state.receivedBytes += take;
    this.streams.set(chunkStream, state);
    if (state.receivedBytes >= state.length) {
      const payload = Buffer.concat(state.received);
      state.received = [];
      state.receivedBytes = 0;
      const message = { type: state.type, streamId: state.streamId, timestamp: state.timestamp, payload };
      if (message.type === MESSAGE_TYPE.setChunkSize && payload.length >= 4) {
        this.chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
        if (this.chunkSize < 1) throw new ChunkError("chunk size 0 refused");
      }
      this.onMessage(message);
    }
    return offset + take;
  }
}

/** A protocol control message carrying one 32-bit number (chunk size, window size). */
export function controlMessage(type: number, value: number, extra?: number): RtmpMessage {
  const payload = Buffer.alloc(extra === undefined ? 4 : 5);
  payload.writeUInt32BE(value);
  if (extra !== undefined) payload[4] = extra;
  return { type, streamId: 0, timestamp: 0, payload };
}
