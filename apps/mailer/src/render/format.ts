// Dates, durations and sizes in the recipient's language, through Intl only: no wording here.

/** "Thursday, January 15, 2026 at 11:20 AM UTC" / "jeudi 15 janvier 2026 à 11:20 UTC". */
export function formatDateTime(date: Date, locale: string, timeZone: string): string {
  return new Intl.DateTimeFormat(locale, {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
    timeZone,
  }).format(date);
}

function unit(locale: string, name: string, value: number, display: "long" | "short"): string {
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: name,
    unitDisplay: display,
    maximumFractionDigits: 1,
  }).format(value);
}

/**
 * "1 hour, 5 minutes" / "1 heure et 5 minutes". Seconds only for recordings shorter than a
 * minute: nobody needs them on an hour-long meeting. (Intl.NumberFormat units rather than
 * Intl.DurationFormat, which Node 22 does not have.)
 */
export function formatDuration(ms: number, locale: string): string {
  const totalSeconds = Math.max(0, Math.round(ms / 1000));
  if (totalSeconds < 60) return unit(locale, "second", totalSeconds, "long");
  const totalMinutes = Math.round(totalSeconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(unit(locale, "hour", hours, "long"));
  if (minutes > 0 || hours === 0) parts.push(unit(locale, "minute", minutes, "long"));
  return new Intl.ListFormat(locale, { type: "unit", style: "long" }).format(parts);
}

const SIZE_UNITS = [
  { name: "gigabyte", bytes: 1e9 },
  { name: "megabyte", bytes: 1e6 },
  { name: "kilobyte", bytes: 1e3 },
] as const;

/** "48.2 MB" / "48,2 Mo" (decimal units, as file managers and browsers show them). */
export function formatSize(bytes: number, locale: string): string {
  for (const { name, bytes: size } of SIZE_UNITS) {
    if (bytes >= size) return unit(locale, name, bytes / size, "short");
  }
  return unit(locale, "byte", bytes, "long");
}
