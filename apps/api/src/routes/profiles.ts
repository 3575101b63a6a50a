import { type EncodingProfile, effectiveSettings, estimateSizeMB } from "@recfleet/config";
import { Router } from "express";
import { methodNotAllowed } from "../http/errors.ts";
import type { RouteContext } from "./context.ts";

const THIRTY_MINUTES_S = 30 * 60;
const oneDecimal = (value: number) => Math.round(value * 10) / 10;

export function presentProfile(profile: EncodingProfile, isDefault: boolean) {
  return {
    name: profile.name,
    type: profile.type,
    description: profile.description,
    default: isDefault,
    preset: profile.type === "preset" ? profile.preset : null,
    videoCodec: profile.type === "advanced" ? profile.videoCodec : null,
    settings: effectiveSettings(profile),
    estimatedMBPer30Min: {
      video: oneDecimal(estimateSizeMB(profile, THIRTY_MINUTES_S, "video")),
      audio: oneDecimal(estimateSizeMB(profile, THIRTY_MINUTES_S, "audio")),
    },
    cpuVsDefault: profile.cpuVsDefault ?? null,
  };
}

/** GET /v1/profiles: the encoding profiles a recording may name, and what it may override. */
export function profileRoutes(ctx: RouteContext): Router {
  const { profiles, encoding } = ctx;
  const router = Router();
  router
    .route("/v1/profiles")
    .get((_req, res) => {
      res.json({
        default: profiles.defaultName,
        items: profiles
          .list()
          .map((profile) => presentProfile(profile, profile.name === profiles.defaultName)),
        overrideBounds: {
          maxWidth: encoding.maxWidth,
          maxHeight: encoding.maxHeight,
          maxFramerate: encoding.maxFramerate,
          maxVideoBitrate: encoding.maxVideoBitrate,
          maxAudioBitrate: encoding.maxAudioBitrate,
        },
        customBaseUrls: encoding.customBaseUrls,
        webSourceUrls: encoding.webSourceUrls,
      });
    })
    .all(methodNotAllowed(["GET"]));
  return router;
}
