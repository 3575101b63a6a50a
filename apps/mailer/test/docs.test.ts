import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { notificationsDocPath, renderNotificationsDoc } from "../src/docs/notifications-doc.ts";

describe("docs/notifications.md", () => {
  it("shows the emails as the templates render them (run `node --conditions=@recfleet/source src/docs/generate.ts` after changing them)", async () => {
    const current = readFileSync(notificationsDocPath, "utf8");
    expect(await renderNotificationsDoc(current)).toBe(current);
  });
});
