import { describe, expect, it } from "vitest";
import { maskAddress, maskAddresses } from "../src/mask.ts";

describe("recipient masking on timelines", () => {
  it("keeps the first letter and the domain of an address", () => {
    expect(maskAddress("owner@example.com")).toBe("o***@example.com");
    expect(maskAddress("a@b.example")).toBe("a***@b.example");
  });

  it("masks every address an SMTP answer quotes", () => {
    expect(
      maskAddresses("email to bob@corp.example refused: 550 5.1.1 <bob@corp.example>: unknown user"),
    ).toBe("email to b***@corp.example refused: 550 5.1.1 <b***@corp.example>: unknown user");
    expect(maskAddresses("no address here; retrying in 5 s")).toBe("no address here; retrying in 5 s");
  });
});
