/** "4 h", "90 min", "45 s": a window or a delay as a person reads it (timeline notes, errors). */
export function formatSpan(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.max(1, Math.ceil(ms / 1000))} s`;
}
