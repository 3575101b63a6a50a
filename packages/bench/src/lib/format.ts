/** How numbers are written in the printed tables. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Math.abs(value) >= 100) return `${value.toFixed(0)} ms`;
  if (Math.abs(value) >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

export function perSecond(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(value >= 100 ? 0 : 1)}/s` : "n/a";
}

export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : "n/a";
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a";
}

export function percent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(0)} %` : "n/a";
}

/** Machine CPU use: "1.45 of 2 cores (0.03 not ours)". */
export function coresBusy(use: { machine: number; others: number }, cores: number): string {
  if (!Number.isFinite(use.machine)) return "n/a";
  return `${use.machine.toFixed(2)} of ${cores} cores (${Number.isFinite(use.others) ? use.others.toFixed(2) : "n/a"} not ours)`;
}
