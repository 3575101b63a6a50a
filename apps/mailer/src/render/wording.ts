import type { FailureCode } from "@recfleet/recordings";

/** Failure codes that are emailed; notification_failed is about the email itself, so never. */
export type EmailedFailure = Exclude<FailureCode, "notification_failed">;

/**
 * Everything an email says, for one language. Values are plain text: the renderers escape them
 * for HTML, so a translation never contains markup and a room name can never inject any.
 */
export interface Wording {
  /** BCP 47 language of the wording: the HTML lang attribute. */
  lang: string;
  /** Locale dates and numbers are formatted in when the recipient's locale does not say more. */
  intlLocale: string;
  /** Between a label and its value in the plain-text part (French puts a no-break space before the colon). */
  colon: string;
  labels: {
    room: string;
    /** For a recording of one participant: who. */
    participant: string;
    recordedAt: string;
    /** When a stream-only recording started streaming. */
    streamedAt: string;
    requestedAt: string;
    duration: string;
    size: string;
    reference: string;
  };
  /** Last paragraph of every email: why it arrived and that replies go nowhere. */
  footer: string;
  saved: {
    subject: (room: string) => string;
    heading: string;
    intro: (room: string) => string;
    /** The button (HTML) and the line before the bare link (text). */
    download: string;
    /** Before the bare link in HTML, for clients that do not show the button. */
    copyLink: string;
    expires: (when: string) => string;
    /** When the recording's files are deleted (RECORDINGS_EXPIRE_DAYS, or the tenant's). */
    deletedOn: (when: string) => string;
    /** The heading of the other objects' links (HLS, thumbnails) under the main one. */
    alsoSaved: string;
    artifact: {
      playlist: (segments: number) => string;
      "live-playlist": string;
      images: (images: number) => string;
      file: string;
    };
  };
  /** A stream-only recording's egress ended: nothing was stored, the streams are over. */
  ended: {
    subject: (room: string) => string;
    heading: string;
    intro: (room: string) => string;
    /** The heading of the list of destinations, each with how its stream ended. */
    streamedTo: string;
    streamStatus: {
      finished: string;
      failed: (error: string) => string;
      /** Egress' last report still had it live when the egress ended. */
      active: string;
    };
    reconnected: (times: number) => string;
    /** When no destination was reported at all (the egress ended before streaming). */
    noStreams: string;
  };
  failed: {
    subject: (room: string) => string;
    heading: string;
    intro: (room: string) => string;
    whatHappened: string;
    whatToDo: string;
    reasons: Record<EmailedFailure, { happened: string; todo: string }>;
  };
}
