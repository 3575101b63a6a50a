// Turns the fleet's JSON log lines into one readable line each, prefixed with the process name.

const COLOURS = [36, 33, 35, 32, 34, 91, 93, 95, 96, 92];
const LEVEL_COLOURS: Record<string, number> = {
  fatal: 41,
  error: 31,
  warn: 33,
  info: 32,
  debug: 90,
  trace: 90,
};
const HIDDEN_FIELDS = new Set(["level", "time", "msg", "pid", "component", "hostname", "v"]);

export type LineFormatter = (name: string, line: string) => string;

export function useColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== "dumb";
}

/** A formatter for the given process names (padded to one width, one colour each). */
export function createLineFormatter(names: readonly string[], colour: boolean): LineFormatter {
  const width = Math.max(...names.map((name) => name.length));
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  return (name, line) => {
    const index = Math.max(0, names.indexOf(name));
    const prefix = paint(COLOURS[index % COLOURS.length] ?? 36, `${name.padEnd(width)} │`);
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === "object" && value !== null && !Array.isArray(value))
        parsed = value as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed.msg !== "string") return `${prefix} ${line}`;
    const level = typeof parsed.level === "string" ? parsed.level : "info";
    const time = typeof parsed.time === "string" ? parsed.time.slice(11, 19) : "";
    const rest = Object.fromEntries(Object.entries(parsed).filter(([key]) => !HIDDEN_FIELDS.has(key)));
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
    return `${prefix} ${time} ${paint(LEVEL_COLOURS[level] ?? 0, level.padEnd(5))} ${parsed.msg}${extra}`;
  };
}
