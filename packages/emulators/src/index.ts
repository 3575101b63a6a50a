// Each emulator is its own entry point: @recfleet/emulators/s3, /egress and /smtp.
export { BodyTooLargeError, closeServer, listen, readBody, sendJson } from "./common/http.ts";
