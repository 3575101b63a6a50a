import type { Wording } from "../wording.ts";

export const en: Wording = {
  lang: "en",
  intlLocale: "en-US",
  colon: ": ",
  labels: {
    room: "Room",
    participant: "Participant",
    recordedAt: "Recorded",
    streamedAt: "Streamed",
    requestedAt: "Requested",
    duration: "Duration",
    size: "Size",
    reference: "Reference",
  },
  footer:
    "This email was sent automatically because a recording was requested with your address. Replies to it are not read.",
  saved: {
    subject: (room) => `Your recording of "${room}" is ready`,
    heading: "Your recording is ready",
    intro: (room) => `The recording of “${room}” is saved and ready to download.`,
    download: "Download the recording",
    copyLink: "If the button does not work, copy this address into your browser:",
    expires: (when) => `This link works until ${when}. Download the file before then.`,
    deletedOn: (when) => `The recording will be deleted on ${when}.`,
    alsoSaved: "Also saved with this recording",
    artifact: {
      playlist: (segments) => `HLS playlist (${segments} segment${segments === 1 ? "" : "s"})`,
      "live-playlist": "Live HLS playlist (the last segments)",
      images: (images) => `Thumbnails (${images} image${images === 1 ? "" : "s"}), their index`,
      file: "The file",
    },
  },
  ended: {
    subject: (room) => `Your live stream of "${room}" has ended`,
    heading: "Your live stream has ended",
    intro: (room) =>
      `The live stream of “${room}” has ended. It was only streamed, so there is no file to download.`,
    streamedTo: "Streamed to",
    streamStatus: {
      finished: "ended normally",
      failed: (error) => `stopped with an error: ${error}`,
      active: "still live when the recording ended",
    },
    reconnected: (times) => `reconnected ${times} time${times === 1 ? "" : "s"}`,
    noStreams: "The stream ended before it reached any destination.",
  },
  failed: {
    subject: (room) => `Your recording of "${room}" failed`,
    heading: "Your recording failed",
    intro: (room) => `Something went wrong with the recording of “${room}”, and no file was saved.`,
    whatHappened: "What happened",
    whatToDo: "What you can do",
    reasons: {
      room_not_found: {
        happened:
          "The recording never started: the meeting room did not open in time. Nobody had joined it and it had not been created when the recording was due to begin.",
        todo: "Start the recording again once the meeting has begun.",
      },
      no_start_signal: {
        happened:
          "The recording never started: nobody shared a camera, a microphone or a screen in the room, so there was nothing to record.",
        todo: "Start the recording again when someone is speaking or presenting.",
      },
      start_failed: {
        happened:
          "The recording could not start. This usually means that no recording capacity was free at the time.",
        todo: "Start the recording again. If it keeps failing, ask the people who run your meeting service to check the recording servers.",
      },
      egress_failed: {
        happened:
          "The recording server ran into an error while recording, so the file could not be finished.",
        todo: "If the meeting is still going on, start a new recording. If this happens again, contact your administrator and give them the reference below.",
      },
      egress_aborted: {
        happened:
          "The recording was stopped before anything was recorded, for example because the meeting ended while the recording was still starting.",
        todo: "If you still need a recording, start a new one once the meeting is under way.",
      },
      lost: {
        happened:
          "The recording was lost: the recording server stopped while it was working, or the file never reached storage.",
        todo: "Nothing can be recovered from this recording. If the meeting is still going on, start a new one, and tell your administrator, giving them the reference below.",
      },
      stored_in_backup: {
        happened:
          "The recording was made, but the recording server could not put the file in the usual storage and kept it in a backup store instead, which this service cannot link to.",
        todo: "Ask your administrator for the file, giving them the reference below: it is not lost.",
      },
      stop_failed: {
        happened: "The recording could not be stopped properly, so its file could not be finished and saved.",
        todo: "Contact your administrator and give them the reference below. If you need a recording, start a new one.",
      },
    },
  },
};
