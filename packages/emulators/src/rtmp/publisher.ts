import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import type { AmfObject } from "./amf0.ts";
import { CHUNK_STREAM, MESSAGE_TYPE } from "./chunks.ts";
import { type RtmpCommand, RtmpConnection } from "./connection.ts";

/** Where an RTMP stream goes, as egress splits its URL: rtmp(s)://{host}(/{path})/{app}/{key}. */
export interface RtmpEndpoint {
  tls: boolean;
  host: string;
  port: number;
  /** Everything between the host and the key (`live`, `a/b`). */
  app: string;
  key: string;
}

export interface PublishHandlers {
  /** The ingest answered NetStream.Publish.Start: media flows from now. */
  started(): void;
  /** The publish is over: null when stop() ended it, else why it broke. Called once. */
  ended(error: Error | null): void;
}

export interface PublishOptions {
  connectTimeoutMs: number;
  /** How often a media message is sent while publishing. */
  mediaIntervalMs: number;
}

export interface Publication {
  stop(): void;
  /** Media bytes written since the publish began. */
  mediaBytes(): number;
}

// A placeholder video tag body: an AVC key frame's header bytes, then filler. The emulator
// carries no real media; an ingest only counts what arrives.
const MEDIA_PAYLOAD = Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(251, 0x42)]);

/**
 * Publishes to an RTMP ingest as egress' rtmp2sink does: TCP (TLS for rtmps), the handshake,
 * connect with the app, createStream, publish with the key, then media until stopped.
 */
export function publishRtmp(
  endpoint: RtmpEndpoint,
  options: PublishOptions,
  handlers: PublishHandlers,
): Publication {
  const socket = endpoint.tls
    ? connectTls({ host: endpoint.host, port: endpoint.port, servername: endpoint.host })
    : connectTcp({ host: endpoint.host, port: endpoint.port });
  socket.setNoDelay(true);
  const connection = new RtmpConnection(socket);
  let done = false;
  let media: NodeJS.Timeout | null = null;
  let mediaBytes = 0;
  let timestamp = 0;
  const end = (error: Error | null) => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    if (media) clearInterval(media);
    if (error) connection.destroy();
    handlers.ended(error);
  };
  const connectTimer = setTimeout(
    () =>
      end(
        new Error(`could not connect to ${endpoint.host}:${endpoint.port} in ${options.connectTimeoutMs} ms`),
      ),
    options.connectTimeoutMs,
  );
  connection.onClose((error) => end(error ?? new Error("connection closed by the server")));
  const tcUrl = `${endpoint.tls ? "rtmps" : "rtmp"}://${endpoint.host}:${endpoint.port}/${endpoint.app}`;
  const awaiting = new Map<number, (command: RtmpCommand) => void>();
  connection.onCommand((command) => {
    if (command.name === "_result" || command.name === "_error") {
      awaiting.get(command.transactionId)?.(command);
      awaiting.delete(command.transactionId);
      return;
    }
    if (command.name !== "onStatus") return;
    const status = (command.args[1] ?? {}) as AmfObject;
    if (status.code === "NetStream.Publish.Start") {
      clearTimeout(connectTimer);
      handlers.started();
      media = setInterval(() => {
        timestamp += options.mediaIntervalMs;
        mediaBytes += MEDIA_PAYLOAD.length;
        connection.send(CHUNK_STREAM.media, {
          type: MESSAGE_TYPE.video,
          streamId: command.streamId,
          timestamp,
          payload: MEDIA_PAYLOAD,
        });
      }, options.mediaIntervalMs);
      return;
    }
    if (status.level === "error") {
      end(new Error(`publish refused: ${String(status.code)} (${String(status.description ?? "")})`));
    }
  });
  const call = (name: string, transactionId: number, args: Parameters<RtmpConnection["sendCommand"]>[2]) =>
    new Promise<RtmpCommand>((resolve, reject) => {
      awaiting.set(transactionId, (answer) =>
        answer.name === "_result"
          ? resolve(answer)
          : reject(
              new Error(`${name} refused: ${String(((answer.args[1] ?? {}) as AmfObject).code ?? "_error")}`),
            ),
      );
      connection.sendCommand(name, transactionId, args);
    });
  socket.once(endpoint.tls ? "secureConnect" : "connect", () => {
    (async () => {
      await connection.clientHandshake();
      await call("connect", 1, [{ app: endpoint.app, type: "nonprivate", flashVer: "FMLE/3.0", tcUrl }]);
      const created = await call("createStream", 2, [null]);
      const streamId = typeof created.args[1] === "number" ? created.args[1] : 1;
      connection.sendCommand("publish", 0, [null, endpoint.key, "live"], streamId);
    })().catch((error: Error) => end(error));
  });
  return {
    stop() {
      if (done) return;
      connection.sendCommand("FCUnpublish", 4, [null, endpoint.key]);
      connection.sendCommand("deleteStream", 5, [null, 1]);
      done = true;
      clearTimeout(connectTimer);
      if (media) clearInterval(media);
      connection.close();
      handlers.ended(null);
    },
    mediaBytes: () => mediaBytes,
  };
}
