// The S3 error catalog as MinIO answers it (cmd/api-errors.go): code, HTTP status and message.
interface ErrorSpec {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

const QUERY_AUTH_PARAMS =
  "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";

export const S3_ERRORS = {
  AccessDenied: { code: "AccessDenied", status: 403, message: "Access Denied." },
  ExpiredPresignRequest: { code: "AccessDenied", status: 403, message: "Request has expired" },
  RequestNotReadyYet: { code: "AccessDenied", status: 403, message: "Request is not valid yet" },
  InvalidAccessKeyId: {
    code: "InvalidAccessKeyId",
    status: 403,
    message: "The Access Key Id you provided does not exist in our records.",
  },
  SignatureDoesNotMatch: {
    code: "SignatureDoesNotMatch",
    status: 403,
    message:
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  },
  RequestTimeTooSkewed: {
    code: "RequestTimeTooSkewed",
    status: 403,
    message: "The difference between the request time and the server's time is too large.",
  },
  InvalidTokenId: {
    code: "InvalidTokenId",
    status: 403,
    message: "The security token included in the request is invalid",
  },
  AuthorizationHeaderMalformed: {
    code: "AuthorizationHeaderMalformed",
    status: 400,
    message: "The authorization header is malformed; the region is wrong; expecting 'us-east-1'.",
  },
  CredentialMalformed: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message:
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
  },
  MalformedCredentialDate: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message:
      'Error parsing the X-Amz-Credential parameter; incorrect date format. This date in the credential must be in the format "yyyyMMdd".',
  },
  MalformedCredentialRegion: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message: "Error parsing the X-Amz-Credential parameter; the region is wrong;",
  },
  InvalidServiceS3: {
    code: "AuthorizationParametersError",
    status: 400,
    message:
      'Error parsing the Credential/X-Amz-Credential parameter; incorrect service. This endpoint belongs to "s3".',
  },
  InvalidRequestVersion: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message:
      'Error parsing the X-Amz-Credential parameter; incorrect terminal. This endpoint uses "aws4_request".',
  },
  MissingCredTag: {
    code: "InvalidRequest",
    status: 400,
    message: "Missing Credential field for this request.",
  },
  MissingSignTag: { code: "AccessDenied", status: 400, message: "Signature header missing Signature field." },
  MissingSignHeadersTag: {
    code: "InvalidArgument",
    status: 400,
    message: "Signature header missing SignedHeaders field.",
  },
  UnsignedHeaders: {
    code: "AccessDenied",
    status: 400,
    message: "There were headers present in the request which were not signed",
  },
  MissingDateHeader: {
    code: "AccessDenied",
    status: 400,
    message: "AWS authentication requires a valid Date or x-amz-date header",
  },
  MalformedDate: {
    code: "MalformedDate",
    status: 400,
    message: "Invalid date format header, expected to be in ISO8601, RFC1123 or RFC1123Z time format.",
  },
  MalformedPresignedDate: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
  },
  InvalidQuerySignatureAlgo: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".',
  },
  InvalidQueryParams: { code: "AuthorizationQueryParametersError", status: 400, message: QUERY_AUTH_PARAMS },
  MalformedExpires: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message: "X-Amz-Expires should be a number",
  },
  NegativeExpires: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message: "X-Amz-Expires must be non-negative",
  },
  MaximumExpires: {
    code: "AuthorizationQueryParametersError",
    status: 400,
    message: "X-Amz-Expires must be less than a week (in seconds) that is 604800",
  },
  SignatureVersionNotSupported: {
    code: "InvalidRequest",
    status: 400,
    message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
  },
  ContentSHA256Mismatch: {
    code: "XAmzContentSHA256Mismatch",
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
  InvalidSHA256PayloadUsage: {
    code: "InvalidRequest",
    status: 400,
    message: "The value of x-amz-content-sha256 header is invalid.",
  },
  ContentChecksumMismatch: {
    code: "XAmzContentChecksumMismatch",
    status: 400,
    message: "The provided 'x-amz-checksum' header does not match what was computed.",
  },
  InvalidChecksum: { code: "InvalidArgument", status: 400, message: "Invalid checksum provided." },
  MultipleChecksums: {
    code: "InvalidRequest",
    status: 400,
    message: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
  },
  MissingChecksum: {
    code: "InvalidRequest",
    status: 400,
    message:
      "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
  },
  MalformedChunkedEncoding: { code: "BadRequest", status: 400, message: "malformed chunked encoding" },
  ChunkTooBig: { code: "BadRequest", status: 400, message: "chunk too big: choose chunk size <= 16MiB" },
  BadDigest: {
    code: "BadDigest",
    status: 400,
    message: "The Content-Md5 you specified did not match what we received.",
  },
  InvalidDigest: {
    code: "InvalidDigest",
    status: 400,
    message: "The Content-Md5 you specified is not valid.",
  },
  IncompleteBody: {
    code: "IncompleteBody",
    status: 400,
    message: "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  },
  MissingContentLength: {
    code: "MissingContentLength",
    status: 411,
    message: "You must provide the Content-Length HTTP header.",
  },
  EntityTooLarge: {
    code: "EntityTooLarge",
    status: 400,
    message: "Your proposed upload exceeds the maximum allowed object size.",
  },
  EntityTooSmall: {
    code: "EntityTooSmall",
    status: 400,
    message: "Your proposed upload is smaller than the minimum allowed object size.",
  },
  InvalidBucketName: {
    code: "InvalidBucketName",
    status: 400,
    message: "The specified bucket is not valid.",
  },
  NoSuchBucket: { code: "NoSuchBucket", status: 404, message: "The specified bucket does not exist" },
  BucketAlreadyOwnedByYou: {
    code: "BucketAlreadyOwnedByYou",
    status: 409,
    message: "Your previous request to create the named bucket succeeded and you already own it.",
  },
  BucketNotEmpty: {
    code: "BucketNotEmpty",
    status: 409,
    message: "The bucket you tried to delete is not empty",
  },
  NoSuchKey: { code: "NoSuchKey", status: 404, message: "The specified key does not exist." },
  NoSuchUpload: {
    code: "NoSuchUpload",
    status: 404,
    message:
      "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
  },
  InvalidPart: {
    code: "InvalidPart",
    status: 400,
    message:
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: {
    code: "InvalidPartOrder",
    status: 400,
    message:
      "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
  },
  InvalidPartNumber: {
    code: "InvalidArgument",
    status: 400,
    message: "Part number must be an integer between 1 and 10000, inclusive",
  },
  InvalidRange: { code: "InvalidRange", status: 416, message: "The requested range is not satisfiable" },
  MalformedXML: {
    code: "MalformedXML",
    status: 400,
    message: "The XML you provided was not well-formed or did not validate against our published schema.",
  },
  InvalidArgument: { code: "InvalidArgument", status: 400, message: "Invalid argument." },
  InvalidMaxKeys: {
    code: "InvalidArgument",
    status: 400,
    message: "Argument maxKeys must be an integer between 0 and 2147483647",
  },
  InvalidMaxUploads: {
    code: "InvalidArgument",
    status: 400,
    message: "Argument max-uploads must be an integer between 0 and 2147483647",
  },
  InvalidMaxParts: {
    code: "InvalidArgument",
    status: 400,
    message: "Argument max-parts must be an integer between 0 and 2147483647",
  },
  InvalidPartNumberMarker: {
    code: "InvalidArgument",
    status: 400,
    message: "Argument partNumberMarker must be an integer.",
  },
  InvalidContinuationToken: {
    code: "InvalidArgument",
    status: 400,
    message: "The continuation token provided is incorrect",
  },
  InvalidEncodingMethod: {
    code: "InvalidArgument",
    status: 400,
    message: "Invalid Encoding Method specified in Request",
  },
  InvalidVersionId: { code: "InvalidArgument", status: 400, message: "Invalid version id specified" },
  EventNotification: {
    code: "InvalidArgument",
    status: 400,
    message: "A specified event is not supported for notifications.",
  },
  FilterNamePrefix: {
    code: "InvalidArgument",
    status: 400,
    message: "Cannot specify more than one prefix rule in a filter.",
  },
  FilterNameSuffix: {
    code: "InvalidArgument",
    status: 400,
    message: "Cannot specify more than one suffix rule in a filter.",
  },
  FilterValueInvalid: {
    code: "InvalidArgument",
    status: 400,
    message: "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
  },
  KeyTooLong: { code: "KeyTooLongError", status: 400, message: "Your key is too long" },
  InvalidURI: { code: "InvalidURI", status: 400, message: "Couldn't parse the specified URI." },
  InvalidRegion: { code: "InvalidRegion", status: 400, message: "Region does not match." },
  MethodNotAllowed: {
    code: "MethodNotAllowed",
    status: 405,
    message: "The specified method is not allowed against this resource.",
  },
  NotImplemented: {
    code: "NotImplemented",
    status: 501,
    message: "A header you provided implies functionality that is not implemented",
  },
  InvalidCopySource: {
    code: "InvalidArgument",
    status: 400,
    message: "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.",
  },
  CopyToItself: {
    code: "InvalidRequest",
    status: 400,
    message:
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
  },
  PreconditionFailed: {
    code: "PreconditionFailed",
    status: 412,
    message: "At least one of the pre-conditions you specified did not hold",
  },
  SlowDown: { code: "SlowDown", status: 503, message: "Please reduce your request rate." },
  ServiceUnavailable: {
    code: "ServiceUnavailable",
    status: 503,
    message: "The service is unavailable. Please retry.",
  },
  InternalError: {
    code: "InternalError",
    status: 500,
    message: "We encountered an internal error, please try again.",
  },
} as const satisfies Record<string, ErrorSpec>;

export type S3ErrorName = keyof typeof S3_ERRORS;

/** An S3 error answer: the XML `<Error>` body carries `code` and `message` (and `extra`, e.g. Region). */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly extra: Readonly<Record<string, string>>;

  constructor(name: S3ErrorName, detail: { message?: string; extra?: Record<string, string> } = {}) {
    const spec: ErrorSpec = S3_ERRORS[name];
    super(detail.message ?? spec.message);
    this.name = "S3Error";
    this.code = spec.code;
    this.status = spec.status;
    this.extra = detail.extra ?? {};
  }
}
