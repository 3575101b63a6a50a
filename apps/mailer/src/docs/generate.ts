// Renders the examples of docs/notifications.md from the real templates:
// node --conditions=@recfleet/source src/docs/generate.ts
import { readFileSync, writeFileSync } from "node:fs";
import { notificationsDocPath, renderNotificationsDoc } from "./notifications-doc.ts";

const current = readFileSync(notificationsDocPath, "utf8");
writeFileSync(notificationsDocPath, await renderNotificationsDoc(current));
process.stdout.write(`wrote ${notificationsDocPath}\n`);
