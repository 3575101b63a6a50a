/** What egress' Chrome made of a web source's page. */
export type PageLoad = { loaded: true; startSignal: boolean } | { loaded: false; error: string };

/** The console message a page logs to say "record from now" (livekit/egress pkg/pipeline/source/web.go). */
export const START_SIGNAL = "START_RECORDING";

// How Chrome names the network errors Node reports (net/base/net_error_list.h).
const CHROME_NET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "net::ERR_CONNECTION_REFUSED",
  ECONNRESET: "net::ERR_CONNECTION_RESET",
  ENOTFOUND: "net::ERR_NAME_NOT_RESOLVED",
  EAI_AGAIN: "net::ERR_NAME_NOT_RESOLVED",
  ETIMEDOUT: "net::ERR_CONNECTION_TIMED_OUT",
};

/**
 * Loads a web source's page as egress' Chrome navigates to it: an answer of 400 or more, a
 * network error or no answer within `timeoutMs` (egress' chromeTimeout, 30 s) is egress'
 * "page load error: …". No script runs here: the page is taken to send its start signal when
 * its HTML holds `START_RECORDING` (the string its script would log), and never otherwise.
 */
export async function loadPage(url: string, timeoutMs: number): Promise<PageLoad> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    if (response.status >= 400) {
      await response.body?.cancel();
      return { loaded: false, error: `page load error: ${response.statusText || String(response.status)}` };
    }
    const html = await response.text();
    return { loaded: true, startSignal: html.includes(START_SIGNAL) };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? "";
    const reason = timedOut
      ? "timed out"
      : (CHROME_NET_ERRORS[code] ?? cause?.message ?? (error as Error).message);
    return { loaded: false, error: `page load error: ${reason}` };
  }
}
