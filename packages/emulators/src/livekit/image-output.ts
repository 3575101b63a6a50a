import { posix } from "node:path";
import { ImageCodec, ImageFileSuffix, type ImageOutput } from "@livekit/protocol";
import jpeg from "jpeg-js";
import { invalidInput } from "./encoding.ts";
import { egressTime, type FilenameContext, substituteFilename } from "./file-output.ts";
import { TwirpError } from "./twirp.ts";

/** Where an image output's JPEGs go, as egress works it out (pkg/config/output_image.go). */
export interface ImagePlan {
  /** The request's prefix after substitution, as ImagesInfo.filename_prefix reports it. */
  filenamePrefix: string;
  /** "" or ending in "/". */
  storageDir: string;
  /** Image n is `<prefix>_<nnnnn>.jpeg` in storageDir. */
  prefix: string;
  captureInterval: number;
  width: number;
  height: number;
}

/**
 * egress' getImageConfig: JPEG only, a known filename suffix, a capture every 10 s by default,
 * and a size that defaults to the video's (`video`, the encoding's size for a composite; the
 * track's, taken here as the same, for an SDK source).
 */
export function planImages(
  output: ImageOutput,
  video: { width: number; height: number },
  context: FilenameContext,
): ImagePlan {
  if (output.imageCodec !== ImageCodec.IC_DEFAULT && output.imageCodec !== ImageCodec.IC_JPEG) {
    throw new TwirpError("invalid_argument", "no supported codec is compatible with all outputs");
  }
  if (!Object.values(ImageFileSuffix).includes(output.filenameSuffix)) throw invalidInput("filename_suffix");
  if (output.filenameSuffix !== ImageFileSuffix.IMAGE_SUFFIX_INDEX) {
    throw new TwirpError("unimplemented", "the egress emulator names images by index only");
  }
  const filenamePrefix = substituteFilename(output.filenamePrefix.trim().replace(/^\/+/, ""), context);
  const slash = filenamePrefix.lastIndexOf("/");
  const storageDir = filenamePrefix.slice(0, slash + 1);
  const base = filenamePrefix.slice(slash + 1);
  return {
    filenamePrefix,
    storageDir,
    prefix: base === "" ? `${context.roomName}-${egressTime(context.now)}` : base,
    captureInterval: output.captureInterval === 0 ? 10 : output.captureInterval,
    width: output.width === 0 ? video.width : output.width,
    height: output.height === 0 ? video.height : output.height,
  };
}

/** The storage path of image `index` (egress' multifilesink location `%s_%05d.jpeg`). */
export function imagePath(plan: ImagePlan, index: number): string {
  return posix.join(plan.storageDir, `${plan.prefix}_${String(index).padStart(5, "0")}.jpeg`);
}

/**
 * A real baseline JPEG of the asked size: a test pattern of eight colour bars whose order turns
 * with `index`, so two thumbnails of one recording differ and any decoder reads them.
 */
export function thumbnailJpeg(width: number, height: number, index: number): Buffer {
  // Eight patterns a size: encoding is pure JavaScript, and a long recording takes many.
  const cacheKey = `${width}x${height}:${index % 8}`;
  const cached = thumbnails.get(cacheKey);
  if (cached) return cached;
  if (thumbnails.size >= 64) thumbnails.clear();
  const bars = [
    [192, 192, 192],
    [192, 192, 0],
    [0, 192, 192],
    [0, 192, 0],
    [192, 0, 192],
    [192, 0, 0],
    [0, 0, 192],
    [16, 16, 16],
  ] as const;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const bar = bars[(Math.floor((x * bars.length) / width) + index) % bars.length] ?? bars[0];
      const at = (y * width + x) * 4;
      data[at] = bar[0];
      data[at + 1] = bar[1];
      data[at + 2] = bar[2];
      data[at + 3] = 255;
    }
  }
  const encoded = jpeg.encode({ data, width, height }, 75).data;
  thumbnails.set(cacheKey, encoded);
  return encoded;
}

const thumbnails = new Map<string, Buffer>();
