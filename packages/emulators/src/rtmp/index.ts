export { type IngestedStream, RtmpIngest, type RtmpIngestOptions } from "./ingest.ts";
export { type Publication, type PublishHandlers, publishRtmp, type RtmpEndpoint } from "./publisher.ts";
