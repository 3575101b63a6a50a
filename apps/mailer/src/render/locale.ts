import { LANGUAGES, type Language, WORDINGS } from "./locales/index.ts";
import type { Wording } from "./wording.ts";

export interface ResolvedLocale {
  wording: Wording;
  /** What Intl formats dates and numbers with: the recipient's own tag when it refines the language (fr-CA). */
  intlLocale: string;
}

function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

function canonical(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/**
 * The recording's own locale (recording.notify.locale) when emails exist in its language, else
 * the configured default. A tag with a region (fr-CA, en-GB) keeps its region for Intl.
 */
export function resolveLocale(requested: string | undefined, fallback: Language): ResolvedLocale {
  const tag = requested ? canonical(requested.trim()) : undefined;
  const language = tag?.split("-")[0]?.toLowerCase();
  if (tag && language && isLanguage(language)) {
    const wording = WORDINGS[language];
    return { wording, intlLocale: tag.includes("-") ? tag : wording.intlLocale };
  }
  const wording = WORDINGS[fallback];
  return { wording, intlLocale: wording.intlLocale };
}
