import { type Recording, recordsRoom } from "@recfleet/recordings";
import type { RouteContext } from "./context.ts";

/**
 * The recordings in progress of a LiveKit room: its composites, participants and tracks. A web
 * page's recording is only filed under a room name: that room's events are not its own.
 */
async function inProgress(ctx: RouteContext, room: string): Promise<Recording[]> {
  return (await ctx.store.inProgressIn(room)).filter((recording) => recordsRoom(recording.source));
}

/**
 * room_started (or track_published): a recording waiting for its room (or its track) retries
 * its start now instead of at its next poll. Returns the ids of the recordings woken.
 */
export async function wakeStartsFor(ctx: RouteContext, room: string): Promise<string[]> {
  const woken: string[] = [];
  for (const recording of await inProgress(ctx, room)) {
    if (recording.status !== "queued" && recording.status !== "starting") continue;
    if (recording.egressId !== null) continue;
    const job = await ctx.producer.queue("control").getJob(`start-${recording.id}`);
    if (job && (await job.isDelayed())) {
      await job.promote();
      woken.push(recording.id);
    }
  }
  return woken;
}

/**
 * room_finished: a recording with no egress yet (queued, or waiting for its room) has nothing
 * left to record, and is cancelled with that reason. One with an egress ends as its egress does
 * — that one may already record, its ACTIVE webhook still on the way: an egress that never began
 * is aborted by LiveKit ("Source closed", which cancels it), one that recorded completes with its
 * file, saved and emailed.
 */
export async function cancelUnstartedIn(ctx: RouteContext, room: string): Promise<string[]> {
  const cancelled: string[] = [];
  for (const recording of await inProgress(ctx, room)) {
    if (recording.status !== "queued" && recording.status !== "starting") continue;
    if (recording.egressId !== null) continue;
    const result = await ctx.store.transition(recording.id, "cancelled", {
      reason: `room "${room}" closed before anything was recorded (room_finished webhook)`,
      onlyFrom: ["queued", "starting"],
    });
    if (result.ok) cancelled.push(recording.id);
  }
  return cancelled;
}
