// SigV4 verification against the worked examples of the S3 documentation (sig-v4-header-based-auth
// and sigv4-query-string-auth), plus the pure helpers the emulator's answers are built from.
import { describe, expect, it } from "vitest";
import { listingEncode, Query, sigV4Encode } from "../src/s3/encoding.ts";
import { S3Error } from "../src/s3/errors.ts";
import { filterPattern, matchPattern } from "../src/s3/events.ts";
import { parseRange } from "../src/s3/http-semantics.ts";
import { listPage } from "../src/s3/listing.ts";
import { type SignedRequest, type VerifyOptions, verifyRequest } from "../src/s3/sigv4.ts";
import { parseCompleteMultipartUpload, parseDeleteObjects } from "../src/s3/xml.ts";

const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const options = (overrides: Partial<VerifyOptions> = {}): VerifyOptions => ({
  secretFor: (key) => (key === ACCESS_KEY ? SECRET_KEY : undefined),
  region: "us-east-1",
  anyRegion: false,
  now: new Date("2013-05-24T00:00:00Z"),
  ...overrides,
});

function headerAuthRequest(
  method: string,
  path: string,
  query: string,
  headers: Record<string, string>,
  signedHeaders: string,
  signature: string,
): SignedRequest {
  return {
    method,
    path,
    query: Query.parse(query),
    headers: {
      host: "examplebucket.s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`,
    },
  };
}

const getObject = (signature: string) =>
  headerAuthRequest(
    "GET",
    "/test.txt",
    "",
    { range: "bytes=0-9", "x-amz-content-sha256": EMPTY_SHA },
    "host;range;x-amz-content-sha256;x-amz-date",
    signature,
  );

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  return "accepted";
}

describe("SigV4 header authentication (the S3 documentation's examples)", () => {
  it("accepts GET Object with a Range header", () => {
    const result = verifyRequest(
      getObject("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
      options(),
    );
    expect(result).toEqual({ accessKey: ACCESS_KEY, payloadHash: EMPTY_SHA, presigned: false });
  });

  it("accepts PUT Object with a `$` in the key and a signed payload hash", () => {
    const request = headerAuthRequest(
      "PUT",
      "/test$file.text",
      "",
      {
        date: "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
      },
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    expect(verifyRequest(request, options()).payloadHash).toBe(
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
    );
  });

  it("accepts GET Bucket lifecycle (a value-less query parameter)", () => {
    const request = headerAuthRequest(
      "GET",
      "/",
      "lifecycle",
      { "x-amz-content-sha256": EMPTY_SHA },
      "host;x-amz-content-sha256;x-amz-date",
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    );
    expect(codeOf(() => verifyRequest(request, options()))).toBe("accepted");
  });

  it("accepts GET Bucket with query parameters sorted by name", () => {
    const request = headerAuthRequest(
      "GET",
      "/",
      "max-keys=2&prefix=J",
      { "x-amz-content-sha256": EMPTY_SHA },
      "host;x-amz-content-sha256;x-amz-date",
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
    expect(codeOf(() => verifyRequest(request, options()))).toBe("accepted");
  });

  it("refuses a changed signature, header or path with SignatureDoesNotMatch", () => {
    const good = getObject("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    expect(codeOf(() => verifyRequest(getObject(`0${"f".repeat(63)}`), options()))).toBe(
      "SignatureDoesNotMatch",
    );
    expect(
      codeOf(() => verifyRequest({ ...good, headers: { ...good.headers, range: "bytes=0-99" } }, options())),
    ).toBe("SignatureDoesNotMatch");
    expect(codeOf(() => verifyRequest({ ...good, path: "/test.txu" }, options()))).toBe(
      "SignatureDoesNotMatch",
    );
  });

  it("refuses an unknown key, a wrong region, a skewed clock and an unsigned Host", () => {
    const good = getObject("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    expect(codeOf(() => verifyRequest(good, options({ secretFor: () => undefined })))).toBe(
      "InvalidAccessKeyId",
    );
    expect(codeOf(() => verifyRequest(good, options({ region: "eu-west-1" })))).toBe(
      "AuthorizationHeaderMalformed",
    );
    expect(codeOf(() => verifyRequest(good, options({ region: "eu-west-1", anyRegion: true })))).toBe(
      "accepted",
    );
    expect(codeOf(() => verifyRequest(good, options({ region: undefined })))).toBe("accepted");
    expect(codeOf(() => verifyRequest(good, options({ now: new Date("2013-05-24T00:16:00Z") })))).toBe(
      "RequestTimeTooSkewed",
    );
    const noHost = headerAuthRequest("GET", "/test.txt", "", {}, "x-amz-date", "00");
    expect(codeOf(() => verifyRequest(noHost, options()))).toBe("AccessDenied");
    expect(codeOf(() => verifyRequest({ ...good, headers: { host: "h" } }, options()))).toBe("AccessDenied");
  });
});

describe("SigV4 presigned URLs (the S3 documentation's example)", () => {
  const query = (overrides: Record<string, string> = {}) =>
    Object.entries({
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": `${ACCESS_KEY}/20130524/us-east-1/s3/aws4_request`,
      "X-Amz-Date": "20130524T000000Z",
      "X-Amz-Expires": "86400",
      "X-Amz-SignedHeaders": "host",
      "X-Amz-Signature": "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      ...overrides,
    })
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join("&");
  const presigned = (overrides: Record<string, string> = {}, now = "2013-05-24T12:00:00Z") =>
    codeOf(() =>
      verifyRequest(
        {
          method: "GET",
          path: "/test.txt",
          query: Query.parse(query(overrides)),
          headers: { host: "examplebucket.s3.amazonaws.com" },
        },
        options({ now: new Date(now) }),
      ),
    );

  it("accepts the example URL within its validity", () => {
    expect(presigned()).toBe("accepted");
  });

  it("refuses it once expired, before it is valid, or with a longer validity", () => {
    expect(presigned({}, "2013-05-25T00:00:01Z")).toBe("AccessDenied");
    expect(presigned({}, "2013-05-23T23:00:00Z")).toBe("AccessDenied");
    expect(presigned({ "X-Amz-Expires": "86401" })).toBe("SignatureDoesNotMatch");
    expect(presigned({ "X-Amz-Expires": "604801" })).toBe("AuthorizationQueryParametersError");
    expect(presigned({ "X-Amz-Date": "2013-05-24" })).toBe("AuthorizationQueryParametersError");
  });
});

describe("encodings", () => {
  it("encodes for SigV4 with RFC 3986 rules", () => {
    expect(sigV4Encode("a b+c*d~e/f!'()")).toBe("a%20b%2Bc%2Ad~e%2Ff%21%27%28%29");
    expect(sigV4Encode("dir/é.mp4", true)).toBe("dir/%C3%A9.mp4");
  });

  it("encodes listing keys like MinIO's s3URLEncode (space as +, / and * kept, ~ encoded)", () => {
    expect(listingEncode("a b+c/*~é")).toBe("a+b%2Bc/*%7E%C3%A9");
  });

  it("sorts canonical query parameters by encoded name, then value", () => {
    expect(Query.parse("b=2&a=z&a=y&uploads").canonical()).toBe("a=y&a=z&b=2&uploads=");
  });
});

describe("listing pages", () => {
  const sortedKeys = ["a/1", "a/2", "b", "c/x/1", "c/y", "d"];

  it("rolls keys up to common prefixes that count once toward max-keys", () => {
    expect(listPage({ sortedKeys, prefix: "", delimiter: "/", after: "", maxKeys: 3 })).toEqual({
      keys: ["b"],
      commonPrefixes: ["a/", "c/"],
      isTruncated: true,
      nextMarker: "c/",
    });
    expect(listPage({ sortedKeys, prefix: "", delimiter: "/", after: "c/", maxKeys: 3 })).toEqual({
      keys: ["d"],
      commonPrefixes: [],
      isTruncated: false,
      nextMarker: "",
    });
  });

  it("orders by UTF-8 bytes, not UTF-16 units", () => {
    const keys = ["\uffef", "😀"];
    expect(
      listPage({ sortedKeys: keys, prefix: "", delimiter: "", after: "\uffef", maxKeys: 10 }).keys,
    ).toEqual(["😀"]);
  });
});

describe("byte ranges (MinIO's parseRequestRangeSpec)", () => {
  it("reads single ranges, suffixes and open ends; ignores what it cannot read", () => {
    expect(parseRange("bytes=2-4", 10)).toEqual({ kind: "partial", start: 2, end: 4 });
    expect(parseRange("bytes=8-", 10)).toEqual({ kind: "partial", start: 8, end: 9 });
    expect(parseRange("bytes=-3", 10)).toEqual({ kind: "partial", start: 7, end: 9 });
    expect(parseRange("bytes=-30", 10)).toEqual({ kind: "partial", start: 0, end: 9 });
    expect(parseRange("bytes=5-100", 10)).toEqual({ kind: "partial", start: 5, end: 9 });
    expect(parseRange("bytes=0-1,3-4", 10)).toEqual({ kind: "full" });
    expect(parseRange("items=0-1", 10)).toEqual({ kind: "full" });
    expect(parseRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=4-2", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
  });
});

describe("event filters (MinIO's NewPattern and MatchSimple)", () => {
  it("matches prefix and suffix together, with * as the only wildcard", () => {
    const pattern = filterPattern("recordings/", ".mp4");
    expect(pattern).toBe("recordings/*.mp4");
    expect(matchPattern(pattern, "recordings/a.mp4")).toBe(true);
    expect(matchPattern(pattern, "recordings/a.ogg")).toBe(false);
    expect(matchPattern(pattern, "other/a.mp4")).toBe(false);
    expect(matchPattern(filterPattern("", ""), "anything")).toBe(true);
    expect(matchPattern(filterPattern("a?", ""), "ab")).toBe(false);
    expect(matchPattern(filterPattern("ab", "ba"), "aba")).toBe(false);
  });
});

describe("request bodies", () => {
  it("reads CompleteMultipartUpload as minio-js writes it", () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n  <Part>\n    <PartNumber>2</PartNumber>\n    <ETag>&quot;abc&quot;</ETag>\n  </Part>\n</CompleteMultipartUpload>';
    expect(parseCompleteMultipartUpload(xml)).toEqual([{ partNumber: 2, etag: '"abc"' }]);
    expect(() => parseCompleteMultipartUpload("<CompleteMultipartUpload></CompleteMultipartUpload>")).toThrow(
      S3Error,
    );
    expect(() => parseCompleteMultipartUpload("not xml")).toThrow(S3Error);
  });

  it("reads Delete with entity-escaped keys", () => {
    expect(
      parseDeleteObjects("<Delete><Quiet>true</Quiet><Object><Key>a&amp;b &lt;c&gt;</Key></Object></Delete>"),
    ).toEqual({ keys: ["a&b <c>"], quiet: true });
  });
});
