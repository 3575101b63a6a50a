import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "@recfleet/runtime";
import type { AmfObject } from "./amf0.ts";
import { CHUNK_STREAM, controlMessage, MESSAGE_TYPE } from "./chunks.ts";
import { type RtmpCommand, RtmpConnection } from "./connection.ts";

export interface RtmpIngestOptions {
  host?: string;
  port?: number;
  /** The stream keys it takes; empty: any. Another key is refused NetStream.Publish.BadName. */
  keys?: readonly string[];
  logger: Logger;
}

/** One publish as the ingest saw it; the key is shown redacted, as on any ingest's dashboard. */
export interface IngestedStream {
  app: string;
  /** The stream key's first and last three characters. */
  keyHint: string;
  /** The whole key, for tests that check which one arrived (never logged). */
  key: string;
  connectedAt: string;
  publishingSince: string | null;
  endedAt: string | null;
  refused: boolean;
  mediaMessages: number;
  mediaBytes: number;
}

const WINDOW_ACK_SIZE = 2_500_000;
const SERVER_CHUNK_SIZE = 4096;

function keyHintOf(key: string): string {
  return key.length >= 9 ? `${key.slice(0, 3)}…${key.slice(-3)}` : "…";
}

/**
 * An RTMP ingest (what YouTube Live, Twitch or nginx-rtmp are to egress): the handshake, then
 * connect → createStream → publish, then media. A publish with a key it does not take is
 * answered NetStream.Publish.BadName and the connection closed, as real ingests do.
 */
export class RtmpIngest {
  private readonly options: RtmpIngestOptions;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly publishing = new Map<IngestedStream, RtmpConnection>();
  private readonly seen: IngestedStream[] = [];
  private keys: Set<string>;
  /** The port it listens on, once started. */
  port = 0;

  constructor(options: RtmpIngestOptions) {
    this.options = options;
    this.keys = new Set(options.keys ?? []);
    this.server = createServer((socket) => this.accept(socket));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const address = this.server.address();
    if (typeof address !== "object" || address === null) throw new Error("RTMP ingest has no address");
    this.port = address.port;
    return address.port;
  }

  /** Every publish seen, oldest first. */
  streams(): IngestedStream[] {
    return this.seen.map((stream) => ({ ...stream }));
  }

  /** Sets the keys taken from now on (empty: any). */
  setKeys(keys: readonly string[]): void {
    this.keys = new Set(keys);
  }

  /** Cuts every publishing connection, as an ingest restart does; answers how many. */
  dropAll(): number {
    const connections = [...this.publishing.values()];
    // Closed, not destroyed: a reset would depend on whether media was still unread (RST), and
    // a restarting ingest closes its connections.
    for (const connection of connections) connection.close();
    return connections.length;
  }

  forget(): void {
    this.seen.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    const connection = new RtmpConnection(socket);
    let app = "";
    let stream: IngestedStream | null = null;
    connection.onCommand((command) => {
      if (command.name === "connect") {
        const props = (command.args[0] ?? {}) as AmfObject;
        app = typeof props.app === "string" ? props.app : "";
        this.connected(connection, command);
      } else if (command.name === "createStream") {
        connection.sendCommand("_result", command.transactionId, [null, 1]);
      } else if (command.name === "publish") {
        const key = typeof command.args[1] === "string" ? command.args[1] : "";
        stream = this.publish(connection, command, app, key);
      } else if (command.name === "deleteStream" || command.name === "FCUnpublish") {
        if (stream) this.ended(stream);
      }
    });
    connection.onMessage((message) => {
      if (!stream?.publishingSince || stream.endedAt) return;
      if (message.type === MESSAGE_TYPE.audio || message.type === MESSAGE_TYPE.video) {
        stream.mediaMessages += 1;
        stream.mediaBytes += message.payload.length;
      }
    });
    connection.onClose(() => {
      if (stream) this.ended(stream);
    });
    connection.serverHandshake().catch(() => socket.destroy());
  }

  private connected(connection: RtmpConnection, command: RtmpCommand): void {
    connection.send(CHUNK_STREAM.control, controlMessage(MESSAGE_TYPE.windowAckSize, WINDOW_ACK_SIZE));
    connection.send(CHUNK_STREAM.control, controlMessage(MESSAGE_TYPE.setPeerBandwidth, WINDOW_ACK_SIZE, 2));
    connection.setChunkSize(SERVER_CHUNK_SIZE);
    connection.sendCommand("_result", command.transactionId, [
      { fmsVer: "FMS/3,0,1,123", capabilities: 31 },
      { level: "status", code: "NetConnection.Connect.Success", description: "Connection succeeded." },
    ]);
  }

  private publish(
    connection: RtmpConnection,
    command: RtmpCommand,
    app: string,
    key: string,
  ): IngestedStream {
    const refused = this.keys.size > 0 && !this.keys.has(key);
    const stream: IngestedStream = {
      app,
      keyHint: keyHintOf(key),
      key,
      connectedAt: new Date().toISOString(),
      publishingSince: refused ? null : new Date().toISOString(),
      endedAt: refused ? new Date().toISOString() : null,
      refused,
      mediaMessages: 0,
      mediaBytes: 0,
    };
    this.seen.push(stream);
    const status = refused
      ? { level: "error", code: "NetStream.Publish.BadName", description: "Stream key is not valid." }
      : { level: "status", code: "NetStream.Publish.Start", description: "Publishing." };
    connection.sendCommand("onStatus", 0, [null, status], command.streamId);
    this.options.logger.info(
      { app, key: stream.keyHint, refused },
      refused ? "publish refused" : "publish started",
    );
    if (refused) connection.close();
    else this.publishing.set(stream, connection);
    return stream;
  }

  private ended(stream: IngestedStream): void {
    this.publishing.delete(stream);
    if (stream.endedAt === null) stream.endedAt = new Date().toISOString();
  }
}
