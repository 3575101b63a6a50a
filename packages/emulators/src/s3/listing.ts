import { compareKeys } from "./encoding.ts";

export interface ListRequest {
  /** Every key of the bucket, sorted in S3 order (UTF-8 bytes). */
  sortedKeys: readonly string[];
  prefix: string;
  delimiter: string;
  /** Exclusive: start-after, a continuation token's key, or a V1 marker. */
  after: string;
  maxKeys: number;
}

export interface ListPage {
  keys: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned, from where the next page starts. */
  nextMarker: string;
}

/**
 * One page of a listing. With a delimiter, keys sharing the part of the name up to the next
 * delimiter after the prefix are rolled up into one common prefix, which counts as one entry
 * toward `maxKeys`; a page that ended on a common prefix resumes after all of its keys.
 */
export function listPage(request: ListRequest): ListPage {
  const { prefix, delimiter, after, maxKeys } = request;
  const page: ListPage = { keys: [], commonPrefixes: [], isTruncated: false, nextMarker: "" };
  if (maxKeys <= 0) return page;
  let lastPrefix = "";
  let count = 0;
  const { sortedKeys } = request;
  // S3 seeks to where the listing starts instead of reading the bucket from its first key: a
  // listing's cost follows what it returns, not how many keys come before it.
  const from = after !== "" && compareKeys(after, prefix) > 0 ? after : prefix;
  for (let index = firstAtOrAfter(sortedKeys, from); index < sortedKeys.length; index += 1) {
    const key = sortedKeys[index] ?? "";
    if (!key.startsWith(prefix)) {
      if (compareKeys(key, prefix) > 0) break;
      continue;
    }
    if (after !== "" && compareKeys(key, after) <= 0) continue;
    let entry = key;
    let isPrefix = false;
    if (delimiter !== "") {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        entry = key.slice(0, at + delimiter.length);
        isPrefix = true;
        if (entry === lastPrefix || entry === after) continue;
      }
    }
    if (count === maxKeys) {
      page.isTruncated = true;
      break;
    }
    if (isPrefix) {
      page.commonPrefixes.push(entry);
      lastPrefix = entry;
    } else page.keys.push(entry);
    page.nextMarker = entry;
    count += 1;
  }
  if (!page.isTruncated) page.nextMarker = "";
  return page;
}

/** The index of the first key not sorting before `key` (binary search). */
function firstAtOrAfter(sortedKeys: readonly string[], key: string): number {
  let low = 0;
  let high = sortedKeys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(sortedKeys[middle] ?? "", key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
