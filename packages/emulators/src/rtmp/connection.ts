import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { type AmfValue, decodeAmf, encodeAmf } from "./amf0.ts";
import {
  CHUNK_STREAM,
  ChunkReader,
  controlMessage,
  DEFAULT_CHUNK_SIZE,
  encodeMessage,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "./chunks.ts";

const VERSION = 3;
const HANDSHAKE_BYTES = 1536;

export class RtmpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RtmpProtocolError";
  }
}

/** A command message, decoded: its name, transaction id, then its arguments. */
export interface RtmpCommand {
  name: string;
  transactionId: number;
  args: AmfValue[];
  streamId: number;
}

/**
 * One RTMP connection over a socket (TCP or TLS): the handshake (§5.2: C0/C1/C2 and S0/S1/S2),
 * then messages both ways. Reading starts once the handshake is done; every message after it
 * reaches `onMessage`, and the commands among them `onCommand` too.
 */
export class RtmpConnection {
  readonly socket: Duplex;
  private pending: Buffer = Buffer.alloc(0);
  private wanted: { bytes: number; resolve: (data: Buffer) => void } | null = null;
  private reader: ChunkReader | null = null;
  private outChunkSize = DEFAULT_CHUNK_SIZE;
  private closedError: Error | null = null;
  private readonly commandListeners = new Set<(command: RtmpCommand) => void>();
  private readonly messageListeners = new Set<(message: RtmpMessage) => void>();
  private readonly closeListeners = new Set<(error: Error | null) => void>();
  /** Bytes this side wrote and read after the handshake. */
  bytesOut = 0;
  bytesIn = 0;

  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on("data", (data: Buffer) => this.received(data));
    socket.on("error", (error) => this.closed(error));
    socket.on("close", () => this.closed(null));
  }

  onCommand(listener: (command: RtmpCommand) => void): void {
    this.commandListeners.add(listener);
  }

  onMessage(listener: (message: RtmpMessage) => void): void {
    this.messageListeners.add(listener);
  }

  onClose(listener: (error: Error | null) => void): void {
    if (this.closedError !== null || this.socket.destroyed) listener(this.closedError);
    else this.closeListeners.add(listener);
  }

  async clientHandshake(): Promise<void> {
    const c1 = handshakeBlock();
    this.socket.write(Buffer.concat([Buffer.from([VERSION]), c1]));
    const s0s1s2 = await this.read(1 + 2 * HANDSHAKE_BYTES);
    if (s0s1s2[0] !== VERSION) throw new RtmpProtocolError(`server answered RTMP version ${s0s1s2[0]}`);
    this.socket.write(s0s1s2.subarray(1, 1 + HANDSHAKE_BYTES));
    this.startMessages();
  }

  async serverHandshake(): Promise<void> {
    const c0c1 = await this.read(1 + HANDSHAKE_BYTES);
    if (c0c1[0] !== VERSION) throw new RtmpProtocolError(`client asked for RTMP version ${c0c1[0]}`);
    this.socket.write(Buffer.concat([Buffer.from([VERSION]), handshakeBlock(), c0c1.subarray(1)]));
    await this.read(HANDSHAKE_BYTES);
    this.startMessages();
  }

  send(chunkStream: number, message: RtmpMessage): void {
    const bytes = encodeMessage(chunkStream, message, this.outChunkSize);
    this.bytesOut += bytes.length;
    this.socket.write(bytes);
    if (message.type === MESSAGE_TYPE.setChunkSize) this.outChunkSize = message.payload.readUInt32BE(0);
  }

  sendCommand(name: string, transactionId: number, args: AmfValue[], streamId = 0): void {
    this.send(CHUNK_STREAM.command, {
      type: MESSAGE_TYPE.command,
      streamId,
      timestamp: 0,
      payload: encodeAmf([name, transactionId, ...args]),
    });
  }

  setChunkSize(size: number): void {
    this.send(CHUNK_STREAM.control, controlMessage(MESSAGE_TYPE.setChunkSize, size));
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private startMessages(): void {
    this.reader = new ChunkReader((message) => this.dispatch(message));
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    if (rest.length > 0) this.feed(rest);
  }

  private dispatch(message: RtmpMessage): void {
    for (const listener of this.messageListeners) listener(message);
    if (message.type !== MESSAGE_TYPE.command) return;
    const [name, transactionId, ...args] = decodeAmf(message.payload);
    if (typeof name !== "string") throw new RtmpProtocolError("a command without a name");
    const command = {
      name,
      transactionId: typeof transactionId === "number" ? transactionId : 0,
      args,
      streamId: message.streamId,
    };
    for (const listener of this.commandListeners) listener(command);
  }

  private feed(data: Buffer): void {
    this.bytesIn += data.length;
    try {
      this.reader?.push(data);
    } catch (error) {
      // A peer that breaks the protocol loses its connection, as with any RTMP server.
      this.socket.destroy(error as Error);
    }
  }

  private received(data: Buffer): void {
    if (this.reader) {
      this.feed(data);
      return;
    }
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    this.serveRead();
  }

  private read(bytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closedError !== null || this.socket.destroyed) {
        reject(this.closedError ?? new RtmpProtocolError("connection closed during the handshake"));
        return;
      }
      this.wanted = { bytes, resolve };
      this.closeListeners.add((error) => {
        if (this.wanted?.resolve === resolve) {
          this.wanted = null;
          reject(error ?? new RtmpProtocolError("connection closed during the handshake"));
        }
      });
      this.serveRead();
    });
  }

  private serveRead(): void {
    const wanted = this.wanted;
    if (!wanted || this.pending.length < wanted.bytes) return;
    const data = this.pending.subarray(0, wanted.bytes);
    this.pending = this.pending.subarray(wanted.bytes);
    this.wanted = null;
    wanted.resolve(data);
  }

  private closed(error: Error | null): void {
    if (this.closedError === null) this.closedError = error;
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const listener of listeners) listener(error);
  }
}

/** C1 / S1: a time, four zero bytes, then 1528 bytes of anything (random, as the specification asks). */
function handshakeBlock(): Buffer {
  const block = Buffer.alloc(HANDSHAKE_BYTES);
  block.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  randomBytes(HANDSHAKE_BYTES - 8).copy(block, 8);
  return block;
}
