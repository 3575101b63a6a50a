import type { Wording } from "../wording.ts";
import { en } from "./en.ts";
import { fr } from "./fr.ts";

/** The languages emails are written in; MAILER_LOCALE takes one of these. */
export const LANGUAGES = ["en", "fr"] as const;
export type Language = (typeof LANGUAGES)[number];

export const WORDINGS: Record<Language, Wording> = { en, fr };
