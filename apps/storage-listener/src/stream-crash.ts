/**
 * True for an exception thrown by minio-js' notification stream parsing (its JSONL parser or the
 * handler that reads `Records` from each parsed line), recognised by where it was thrown.
 */
export function isListenStreamCrash(error: Error): boolean {
  const stack = error.stack ?? "";
  return /minio[\\/].*notification\.(m?js|ts)/.test(stack) || /stream-json[\\/]/.test(stack);
}
