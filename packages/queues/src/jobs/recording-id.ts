import { z } from "zod";

/** Recording ids are UUIDv7 (time-sortable, safe in object keys and BullMQ job ids). */
export const recordingId = z.uuid({ version: "v7", error: "must be a recording id (UUIDv7)" });
