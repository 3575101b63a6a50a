/**
 * A recipient pattern is either a regular expression written as `/source/flags`, or a glob
 * matched against the whole address, case-insensitively: `*` is any run of characters, `?` one.
 */
export interface RecipientPattern {
  /** The pattern as given, for the admin listing. */
  readonly source: string;
  matches(address: string): boolean;
}

export class InvalidPatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid recipient pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "InvalidPatternError";
  }
}

const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const char of glob) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += char.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "i");
}

export function compileRecipientPattern(pattern: string): RecipientPattern {
  if (pattern.trim() === "") throw new InvalidPatternError(pattern, "it is empty");
  const literal = REGEX_LITERAL.exec(pattern);
  let regex: RegExp;
  if (literal) {
    const [, source = "", flags = ""] = literal;
    try {
      // A global or sticky regex keeps lastIndex between calls and would match every other time.
      regex = new RegExp(source, flags.replace(/[gy]/g, ""));
    } catch (error) {
      throw new InvalidPatternError(pattern, (error as Error).message);
    }
  } else {
    regex = globToRegExp(pattern);
  }
  return { source: pattern, matches: (address) => regex.test(address) };
}
