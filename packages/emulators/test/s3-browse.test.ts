// The S3 emulator's read-only browse page: what a person opens to see what egress uploaded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "./s3-support.ts";

let s3: TestS3;
const base = () => `http://127.0.0.1:${s3.emulator.port}/_browse`;

beforeAll(async () => {
  s3 = await startTestS3({ buckets: ["recordings"] });
  await s3.client.putObject("recordings", "recordings/a b.mp4", Buffer.from("video bytes"), 11, {
    "Content-Type": "video/mp4",
  });
  await s3.client.putObject("recordings", "recordings/<script>.ogg", Buffer.from("audio"), 5);
  await s3.client.putObject("recordings", "top.txt", Buffer.from("t"), 1);
});
afterAll(async () => {
  await s3?.close();
});

describe("the S3 browse page", () => {
  it("lists buckets, then a bucket's folders and objects, escaped", async () => {
    const buckets = await (await fetch(base())).text();
    expect(buckets).toContain('<a href="/_browse/recordings/">recordings</a>');
    const root = await fetch(`${base()}/recordings/`);
    expect(root.headers.get("content-security-policy")).toContain("default-src 'none'");
    const rootPage = await root.text();
    expect(rootPage).toContain('<a href="/_browse/recordings/recordings/">recordings/</a>');
    expect(rootPage).toContain('<a href="/_browse/recordings/top.txt" download>top.txt</a>');
    const folder = await (await fetch(`${base()}/recordings/recordings/`)).text();
    expect(folder).toContain('<a href="/_browse/recordings/recordings/a%20b.mp4" download>a b.mp4</a>');
    expect(folder).toContain("&lt;script&gt;.ogg");
    expect(folder).not.toContain("<script>");
    expect(folder).toContain("video/mp4");
  });

  it("downloads an object, answers 404 for what is not there, and changes nothing", async () => {
    const download = await fetch(`${base()}/recordings/recordings/a%20b.mp4`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("video/mp4");
    expect(download.headers.get("content-disposition")).toBe("attachment; filename*=UTF-8''a%20b.mp4");
    expect(await download.text()).toBe("video bytes");
    expect((await fetch(`${base()}/recordings/nothing.mp4`)).status).toBe(404);
    expect((await fetch(`${base()}/no-bucket/`)).status).toBe(404);
    const write = await fetch(`${base()}/recordings/top.txt`, { method: "DELETE" });
    expect(write.status).toBe(405);
    expect(await s3.client.statObject("recordings", "top.txt")).toMatchObject({ size: 1 });
  });
});
