import type { RecordingSpec } from "./driver.ts";
import type { ChaosFleet } from "./fleet.ts";

/** The tracks the speaker shares (the harness' openRoom shares the same), for either kind. */
const MEETING_TRACKS = ["camera", "microphone"] as const;
const SPEAKER = "speaker";

/**
 * What people do in LiveKit rooms, played through the LiveKit emulator's admin endpoint (no
 * WebRTC client runs here): join, share their camera and microphone, close the room.
 */
export class Rooms {
  private readonly fleet: ChaosFleet;

  constructor(fleet: ChaosFleet) {
    this.fleet = fleet;
  }

  private path(room: string, rest = ""): string {
    return `/rooms/${encodeURIComponent(room)}${rest}`;
  }

  /** Someone joins (opening the room if it is new), sharing camera and microphone or nothing yet. */
  async join(spec: RecordingSpec, options: { publishing: boolean }): Promise<void> {
    await this.fleet.test.openRoom(spec.room, { identity: SPEAKER, publish: options.publishing });
  }

  /** The participant who joined without sharing starts sharing: egress gets its start signal. */
  async publish(spec: RecordingSpec): Promise<void> {
    for (const source of MEETING_TRACKS) {
      await this.fleet.test.livekitAdmin(this.path(spec.room, `/participants/${SPEAKER}/tracks`), { source });
    }
  }

  /** RoomService.DeleteRoom: everyone is removed and the room finishes (room_finished). */
  async close(spec: RecordingSpec): Promise<void> {
    await this.fleet.test.livekitAdmin(this.path(spec.room), undefined, "DELETE");
  }
}
